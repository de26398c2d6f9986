import { and, asc, desc, eq, gt, inArray, lt, lte, sql, type SQL } from "drizzle-orm";
import { sqlOf, type Executor } from "../../../src/platform/db.ts";
import type { AfterFailure } from "../domain/delivery-policy.ts";
import type { RenderedEmail, TemplateName } from "../domain/rendered-email.ts";
import { notifications } from "./schema.ts";

/** The NOTIFY channel a new pending e-mail is announced on (delivered at commit), so the dispatcher sends it at once. */
export const MAIL_CHANNEL = "shop_notification_mail";

export type NotificationRow = typeof notifications.$inferSelect;

// Every order event records one: the rows and one NOTIFY (delivered at commit) in one statement.
const INSERT_PENDING = `
with added as (
  insert into notification.notifications (id, message_id, order_id, template, "to", subject, text_body, html_body)
  select * from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
  on conflict (message_id, template) do nothing
  returning id),
announced as (select pg_notify('${MAIL_CHANNEL}', '') from added limit 1)
select (select count(*)::int from added) as added, (select count(*) from announced) as announced`;

export interface NewNotification {
  messageId: string;
  orderId: string;
  template: TemplateName;
  email: RenderedEmail;
}

/** Reads and writes notification.notifications; every method runs on the executor it is given (pool or transaction). */
export const notificationRepository = {
  /**
   * Stores the e-mails as `pending` and announces them, in one statement; returns how many were new (an e-mail
   * its event already produced — a redelivery — is skipped).
   */
  async insertPending(tx: Executor, batch: readonly NewNotification[]): Promise<number> {
    if (batch.length === 0) return 0;
    const column = <T>(pick: (n: NewNotification) => T) => batch.map(pick);
    const [row] = await sqlOf(tx).unsafe<{ added: number }[]>(INSERT_PENDING, [
      batch.map(() => Bun.randomUUIDv7()),
      column((n) => n.messageId),
      column((n) => n.orderId),
      column((n) => n.template),
      column((n) => n.email.to),
      column((n) => n.email.subject),
      column((n) => n.email.text),
      column((n) => n.email.html),
    ]);
    return row!.added;
  },

  /**
   * Takes up to `limit` pending e-mails that are due, oldest due first, for `leaseMs`: their next attempt moves
   * to the end of the lease, so no other dispatcher takes them meanwhile, and no row lock is held while they are
   * sent. A dispatcher that dies leaves them to be taken again when the lease runs out.
   */
  claimDue(db: Executor, limit: number, leaseMs: number, scope: "recent" | "all" = "all"): Promise<NotificationRow[]> {
    // "recent": only e-mails that fell due in the last 10 s. Sent and leased e-mails leave dead entries at the old
    // end of the due index until VACUUM; a claim that starts there reads all of them. The dispatcher makes most
    // passes recent ones and a full one now and then, which finds whatever fell due earlier.
    // now(), not clock_timestamp(): a stable value bounds the index scan, a volatile one only filters its rows —
    // and the due index also holds every e-mail leased in the last minute.
    const since = scope === "recent" ? sql`now() - interval '10 seconds'` : sql`'-infinity'::timestamptz`;
    const due = db
      .select({ id: notifications.id })
      .from(notifications)
      .where(
        and(
          eq(notifications.status, "pending"),
          gt(notifications.nextAttemptAt, since),
          lte(notifications.nextAttemptAt, sql`now()`),
        ),
      )
      .orderBy(asc(notifications.nextAttemptAt), asc(notifications.id))
      .limit(limit)
      .for("update", { skipLocked: true });
    return db
      .update(notifications)
      .set({ nextAttemptAt: sql`clock_timestamp() + ${leaseMs} * interval '1 millisecond'` })
      .where(inArray(notifications.id, due))
      .returning();
  },

  async markSent(db: Executor, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await db
      .update(notifications)
      // last_error is kept: with attempts > 1 it tells why the e-mail went out late.
      .set({ status: "sent", sentAt: sql`clock_timestamp()`, attempts: sql`${notifications.attempts} + 1` })
      .where(inArray(notifications.id, ids));
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
