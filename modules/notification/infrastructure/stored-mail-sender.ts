import type { Logger } from "../../../src/platform/logger.ts";
import type { MailMessage, MailSender } from "../ports.ts";

/**
 * The sender when no SMTP_URL is configured: the e-mail is already stored in notification.notifications
 * (`GET /notifications` shows it to an admin), so "sending" means logging that it was — a fresh machine works
 * without any mail server. The log says what was sent, not to whom: the subject and the number of recipients at
 * info, never the address; the text body is added at debug only, for a developer reading the e-mails locally.
 */
export class StoredMailSender implements MailSender {
  constructor(private readonly logger: Logger) {}

  async send(message: MailMessage): Promise<{ messageId?: string }> {
    this.logger.info({ subject: message.subject, recipients: 1 }, "e-mail stored (no SMTP_URL configured)");
    this.logger.debug({ subject: message.subject, body: message.text }, "e-mail body");
    return {};
  }
}
