import nodemailer from "nodemailer";
import type { MailMessage, MailSender } from "../ports.ts";

const TIMEOUT_MS = 10_000;

/**
 * Sends through the SMTP server of a URL (`smtp://user:pass@host:587`, `smtps://…:465`).
 * Timeouts are short so a stuck server costs a dispatcher pass seconds, not minutes (nodemailer
 * otherwise waits 2 minutes for a connection and 10 minutes on a silent socket). Settings in the URL's
 * query string (e.g. `?connectionTimeout=30000`) take precedence.
 */
export class SmtpMailSender implements MailSender {
  private readonly transport;

  constructor(smtpUrl: string, timeoutMs = TIMEOUT_MS) {
    this.transport = nodemailer.createTransport({
      url: smtpUrl,
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
    });
  }

  async send(message: MailMessage): Promise<{ messageId?: string }> {
    // An address object, not a string: nodemailer would read "a@x.org, b@y.org" as a list of recipients.
    const info = await this.transport.sendMail({ ...message, to: { name: "", address: message.to } });
    return { messageId: info.messageId };
  }

  close(): void {
    this.transport.close();
  }
}
