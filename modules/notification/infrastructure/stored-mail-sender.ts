import type { Logger } from "../../../src/platform/logger.ts";
import type { MailMessage, MailSender } from "../ports.ts";

/**
 * The sender when no SMTP_URL is configured: the e-mail is already stored in notification.notifications,
 * so "sending" means writing it to the log — a fresh machine works without any mail server.
 */
export class StoredMailSender implements MailSender {
  constructor(private readonly logger: Logger) {}

  async send(message: MailMessage): Promise<{ messageId?: string }> {
    this.logger.info({ to: message.to, subject: message.subject, text: message.text }, "e-mail stored (no SMTP_URL configured)");
    return {};
  }
}
