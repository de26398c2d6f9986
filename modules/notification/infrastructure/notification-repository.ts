import { and, asc, desc, eq, lt, lte, sql, type SQL } from "drizzle-orm";
import type { Executor } from "../../../src/platform/db.ts";
import type { AfterFailure } from "../domain/delivery-policy.ts";
import type { RenderedEmail, TemplateName } from "../domain/rendered-email.ts";
import { notifications } from "./schema.ts";

/** The NOTIFY channel a new pending e-mail is announced on (delivered at commit), so the dispatcher sends it at once. */
export const MAIL_CHANNEL = "shop_notification_mail";

export type NotificationRow = typeof notifications.$inferSelect;

export interface NewNotification {
  messageId: string;
  orderId: string;
  template: TemplateName;
  email: RenderedEmail;
}

/** Reads and writes notification.notifications; every method runs on the executor it is given (pool or transaction). */
export const notificationRepository = {
  /** Stores the e-mail as `pending`; false when this event already produced it (a redelivery). */
  async insertPending(tx: Executor, notification: NewNotification): Promise<boolean> {
    const { email } = notification;
    const inserted = await tx
      .insert(notifications)
      .values({
        id: Bun.randomUUIDv7(),
        messageId: notification.messageId,
        orderId: notification.orderId,
        template: notification.template,
        to: email.to,
        subject: email.subject,
        textBody: email.text,
        htmlBody: email.html,
      })
      .onConflictDoNothing({ target: [notifications.messageId, notifications.template] })
      .returning({ id: notifications.id });
    if (inserted.length === 0) return false;
    await tx.execute(sql`select pg_notify(${MAIL_CHANNEL}, '')`);
    return true;
  },

  /**
   * Locks up to `limit` pending e-mails that are due, oldest due first. Rows another instance holds are
   * skipped, so no e-mail is sent by two dispatchers at once; the locks last until `tx` ends.
   */
  claimDue(tx: Executor, limit: number): Promise<NotificationRow[]> {
    return tx
      .select()
      .from(notifications)
      .where(and(eq(notifications.status, "pending"), lte(notifications.nextAttemptAt, sql`now()`)))
      .orderBy(asc(notifications.nextAttemptAt), asc(notifications.id))
      .limit(limit)
      .for("update", { skipLocked: true });
  },

  async markSent(tx: Executor, id: string): Promise<void> {
    await tx
      .update(notifications)
      // last_error is kept: with attempts > 1 it tells why the e-mail went out late.
      .set({ status: "sent", sentAt: sql`clock_timestamp()`, attempts: sql`${notifications.attempts} + 1` })
      .where(eq(notifications.id, id));
  },

  /** Records a failed attempt: scheduled again after the policy's delay (counted from now), or given up. */
  async recordFailure(tx: Executor, id: string, outcome: AfterFailure, error: string): Promise<void> {
    const nextAttemptAt = outcome.status === "pending" ? sql`clock_timestamp() + ${outcome.retryInMs} * interval '1 millisecond'` : undefined;
    await tx
      .update(notifications)
      .set({ status: outcome.status, attempts: outcome.attempts, lastError: error.slice(0, 1000), ...(nextAttemptAt ? { nextAttemptAt } : {}) })
      .where(eq(notifications.id, id));
  },

  /** Newest first (ids are UUIDv7, so id order is creation order); `beforeId` is the keyset cursor. */
  list(db: Executor, query: { orderId?: string; beforeId?: string; limit: number }): Promise<NotificationRow[]> {
    const conditions: SQL[] = [];
    if (query.orderId) conditions.push(eq(notifications.orderId, query.orderId));
    if (query.beforeId) conditions.push(lt(notifications.id, query.beforeId));
    return db
      .select()
      .from(notifications)
      .where(and(...conditions))
      .orderBy(desc(notifications.id))
      .limit(query.limit);
  },
};

export type NotificationRepository = typeof notificationRepository;
