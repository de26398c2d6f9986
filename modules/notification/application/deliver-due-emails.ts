import type { Database } from "../../../src/platform/db.ts";
import type { Logger } from "../../../src/platform/logger.ts";
import { afterFailedAttempt, type RetryPolicy } from "../domain/delivery-policy.ts";
import type { NotificationRepository } from "../infrastructure/notification-repository.ts";
import type { MailSender } from "../ports.ts";

export interface DeliveryDependencies {
  db: Database;
  repository: NotificationRepository;
  sender: MailSender;
  from: string;
  policy: RetryPolicy;
  logger: Logger;
}

/**
 * One delivery pass: claims up to `batchSize` due e-mails (row locks, SKIP LOCKED: other instances
 * take other rows), sends them, and records each outcome before the locks are released. A failure is
 * scheduled again with the policy's backoff, or marked `failed` after the last attempt.
 */
export async function deliverDueEmails(deps: DeliveryDependencies, batchSize: number): Promise<{ claimed: number; sent: number }> {
  const { db, repository, sender, from, policy, logger } = deps;
  return db.transaction(async (tx) => {
    const due = await repository.claimDue(tx, batchSize);
    const results = await Promise.allSettled(
      due.map((row) => sender.send({ to: row.to, from, subject: row.subject, text: row.textBody, html: row.htmlBody })),
    );
    let sent = 0;
    for (const [i, row] of due.entries()) {
      const result = results[i]!;
      if (result.status === "fulfilled") {
        await repository.markSent(tx, row.id);
        sent++;
        logger.debug({ notificationId: row.id, orderId: row.orderId, template: row.template, messageId: result.value.messageId }, "e-mail sent");
        continue;
      }
      const error = describe(result.reason);
      const outcome = afterFailedAttempt(row.attempts, policy);
      await repository.recordFailure(tx, row.id, outcome, error);
      const fields = { notificationId: row.id, orderId: row.orderId, template: row.template, attempts: outcome.attempts, err: error };
      if (outcome.status === "failed") logger.error(fields, "e-mail could not be sent; gave up");
      else logger.warn({ ...fields, retryInMs: outcome.retryInMs }, "e-mail could not be sent; will retry");
    }
    return { claimed: due.length, sent };
  });
}

function describe(reason: unknown): string {
  if (!(reason instanceof Error)) return String(reason);
  const code = (reason as { code?: unknown }).code;
  return typeof code === "string" ? `${code}: ${reason.message}` : reason.message;
}
