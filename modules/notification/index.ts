import type { Executor } from "../../src/platform/db.ts";
import type { ModuleDefinition } from "../../src/platform/module.ts";
import { messagingRetention } from "../../src/platform/retention/messaging-rules.ts";
import { expireRows } from "../../src/platform/retention/rule.ts";
import { OrderCancelled, OrderConfirmed, OrderRejected, OrderShipped } from "../orders/contract.ts";
import { notificationEvents } from "./contract.ts";
import { MailDispatcher } from "./application/mail-dispatcher.ts";
import { notificationMetrics } from "./infrastructure/notification-metrics.ts";
import { reportFailedEmails } from "./application/report-failed-emails.ts";
import { retryFailedEmails, type RetryOutcome } from "./application/retry-failed-emails.ts";
import { notificationHandlers } from "./handlers.ts";
import { notificationRoutes } from "./http.ts";
import { migrationsFolder } from "./infrastructure/migrations.ts";
import { notificationRepository } from "./infrastructure/notification-repository.ts";
import { inbox, notifications, outbox } from "./infrastructure/schema.ts";
import { SmtpMailSender } from "./infrastructure/smtp-mail-sender.ts";
import { StoredMailSender } from "./infrastructure/stored-mail-sender.ts";
import type { NotificationDeps } from "./ports.ts";

/** Its settings, read for it from the configuration: SMTP_URL (optional), MAIL_FROM, MAIL_HOLD_MS, MAIL_RETRY_DELAYS_MS. */
export interface MailSettings {
  /** Without it, e-mails are stored and logged instead of sent. */
  smtpUrl?: string | undefined;
  from: string;
  /** How long an order's e-mail waits for the order's earlier e-mail (default 5 minutes). */
  holdMs?: number;
  /** Waits between sending attempts; an e-mail is `failed` after one attempt more than there are delays. */
  retryDelaysMs?: readonly number[];
}

/**
 * E-mails customers about their orders: each order event is rendered into an e-mail and stored in the
 * event's own transaction, then sent by a dispatcher loop (SMTP, or the log when SMTP_URL is unset).
 */
export const notificationModule: ModuleDefinition<MailSettings> = {
  name: "notification",
  publishes: notificationEvents,
  consumes: [OrderConfirmed, OrderRejected, OrderCancelled, OrderShipped],
  retention: (periods) => [
    ...messagingRetention({ outbox, inbox }, periods),
    // Only the bodies, the bulk of the row: GET /notifications keeps showing admins what was sent to whom and
    // when, and (message_id, template) keeps turning a late duplicate event into no second e-mail. Pending and
    // failed e-mails are never touched.
    expireRows({
      table: notifications,
      what: "bodies of sent e-mails",
      since: "sent_at",
      where: "status = 'sent' and html_body <> ''",
      clear: "text_body = '', html_body = ''",
      periodMs: periods.sentEmailBodyMs,
    }),
  ],
  create(context) {
    const { smtpUrl, from, holdMs, retryDelaysMs } = context.settings;
    const smtp = smtpUrl ? new SmtpMailSender(smtpUrl) : undefined;
    const sender = smtp ?? new StoredMailSender(context.logger);
    const policy = retryDelaysMs ? { maxAttempts: retryDelaysMs.length + 1, backoffMs: retryDelaysMs } : undefined;
    const deps: NotificationDeps = {
      db: context.database.db,
      notifications: notificationRepository,
      sender,
      logger: context.logger,
      metrics: notificationMetrics(context.metrics),
    };
    const dispatcher = new MailDispatcher({ ...deps, database: context.background ?? context.database, from, holdMs, policy });
    return {
      name: "notification",
      migrationsFolder,
      routes: notificationRoutes({ ...deps, authenticator: context.authenticator }),
      handlers: notificationHandlers(deps),
      outboxTable: outbox,
      inboxTable: inbox,
      notes: () => reportFailedEmails(deps),
      loops: [
        {
          async start() {
            context.logger.info(
              { mail: smtpUrl ? `SMTP at ${smtpAddress(smtpUrl)}` : "stored and logged (no SMTP_URL)", from },
              "notification: e-mail delivery",
            );
            await dispatcher.start();
          },
          async stop() {
            await dispatcher.stop();
            smtp?.close();
          },
        },
      ],
    };
  },
};

/**
 * `shop mail retry`: failed e-mails (all, or those of `ids`) back to pending with fresh attempts; a running
 * dispatcher is woken and sends them.
 */
export function retryFailedMail(db: Executor, ids?: readonly string[]): Promise<RetryOutcome> {
  return retryFailedEmails({ db, notifications: notificationRepository }, ids);
}

// The URL may hold a password: log where mail goes, never the credentials.
function smtpAddress(smtpUrl: string): string {
  const url = new URL(smtpUrl);
  return `${url.protocol}//${url.hostname}:${url.port || (url.protocol === "smtps:" ? "465" : "587")}`;
}
