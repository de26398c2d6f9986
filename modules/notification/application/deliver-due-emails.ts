import { withLogContext } from "../../../src/platform/log-context.ts";
import { inSpan, SpanAttributes, SpanKind, tracingEnabled } from "../../../src/platform/tracing/spans.ts";
import { afterFailedAttempt, type RetryPolicy } from "../domain/delivery-policy.ts";
import type { Notification } from "../domain/notification.ts";
import { TEMPLATE_EVENTS } from "../domain/rendered-email.ts";
import type { NotificationDeps } from "../ports.ts";

/** How e-mails go out: their From header, the retry policy, and how long one waits for its order's earlier one. */
export interface DeliverySettings {
  /** The From header of every e-mail (MAIL_FROM). */
  from: string;
  policy: RetryPolicy;
  /** How long an e-mail waits for its order's earlier e-mail to be recorded (domain/email-sequence.ts). */
  holdMs: number;
}

/** How long claimed e-mails are left to one dispatcher: longer than a send can take (SMTP timeouts are 10 s). */
export const DELIVERY_LEASE_MS = 60_000;

/**
 * One delivery pass: takes up to `batchSize` due e-mails for a lease (other instances take other rows; at most one
 * e-mail of an order, the next in its order's sequence), sends them with no transaction open and no row locked, then records the outcomes: the sent ones in one statement,
 * each failure scheduled again with the policy's backoff, or marked `failed` after the last attempt.
 * A dispatcher that dies between sending and recording leaves the e-mails to be sent again after the lease:
 * delivery is at-least-once.
 */
export async function deliverDueEmails(
  deps: Pick<NotificationDeps, "db" | "notifications" | "sender" | "logger" | "metrics">,
  settings: DeliverySettings,
  batchSize: number,
  scope: "recent" | "all" = "all",
): Promise<{ claimed: number; sent: number }> {
  const { db, notifications, sender, logger, metrics } = deps;
  const { from, policy, holdMs } = settings;
  const due = await notifications.claimDue(db, batchSize, { leaseMs: DELIVERY_LEASE_MS, holdMs, scope });
  const send = (row: Notification) => sender.send({ to: row.to, from, subject: row.subject, text: row.textBody, html: row.htmlBody });
  // Each send, and what the sender logs, under the correlation id of the event that asked for the e-mail.
  const results = await Promise.allSettled(
    due.map((row) =>
      withLogContext({ correlationId: row.correlationId ?? undefined }, () => (tracingEnabled() ? sendTraced(row, () => send(row)) : send(row))),
    ),
  );
  const sent: string[] = [];
  for (const [i, row] of due.entries()) {
    const result = results[i]!;
    if (result.status === "fulfilled") {
      sent.push(row.id);
      logger.debug({ correlationId: row.correlationId ?? undefined, notificationId: row.id, orderId: row.orderId, template: row.template, messageId: result.value.messageId }, "e-mail sent");
      continue;
    }
    const error = describe(result.reason);
    const outcome = afterFailedAttempt(row.attempts, policy);
    await notifications.recordFailure(db, row.id, outcome, error);
    (outcome.status === "failed" ? metrics.failed : metrics.attemptsFailed).inc();
    const fields = { correlationId: row.correlationId ?? undefined, notificationId: row.id, orderId: row.orderId, template: row.template, attempts: outcome.attempts, err: error };
    if (outcome.status === "failed") logger.error(fields, "e-mail could not be sent; gave up");
    else logger.warn({ ...fields, retryInMs: outcome.retryInMs }, "e-mail could not be sent; will retry");
  }
  await notifications.markSent(db, sent);
  metrics.sent.inc(sent.length);
  return { claimed: due.length, sent: sent.length };
}

/**
 * A send is a span in the trace of the event delivery that recorded the e-mail (its stored traceparent), though it
 * happens later, in the dispatcher.
 */
function sendTraced(row: Notification, send: () => Promise<{ messageId?: string }>): Promise<{ messageId?: string }> {
  const attributes = {
    [SpanAttributes.module]: "notification",
    [SpanAttributes.event]: TEMPLATE_EVENTS[row.template],
    [SpanAttributes.messageId]: row.messageId,
    [SpanAttributes.orderId]: row.orderId,
    "shop.notification.id": row.id,
    "shop.email.template": row.template,
    "shop.email.attempt": row.attempts + 1,
  };
  return inSpan(`send e-mail ${row.template}`, { kind: SpanKind.CLIENT, parent: row.traceparent ?? undefined, attributes }, send);
}

function describe(reason: unknown): string {
  if (!(reason instanceof Error)) return String(reason);
  const code = (reason as { code?: unknown }).code;
  return typeof code === "string" ? `${code}: ${reason.message}` : reason.message;
}
