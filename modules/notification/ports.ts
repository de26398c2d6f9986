/** One e-mail as handed to a mail transport. */
export interface MailMessage {
  to: string;
  from: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * Hands an e-mail to whatever delivers mail (an SMTP server, or the log when none is configured).
 * Resolves once the message was accepted; rejects when it was not (the dispatcher retries later).
 */
export interface MailSender {
  send(message: MailMessage): Promise<{ messageId?: string }>;
}
