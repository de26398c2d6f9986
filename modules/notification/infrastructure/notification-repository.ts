import { and, asc, desc, eq, exists, gt, inArray, isNull, lt, lte, notExists, or, sql, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { sqlOf, type Executor } from "../../../src/platform/db.ts";
import type { AfterFailure } from "../domain/delivery-policy.ts";
import { FIRST_EMAIL_VERSION } from "../domain/email-sequence.ts";
import type { NewNotification, Notification, RetriedNotification } from "../domain/notification.ts";
import type { NotificationRepository } from "../ports.ts";
import { notifications } from "./schema.ts";

/** The NOTIFY channel a new pending e-mail is announced on (delivered at commit), so the dispatcher sends it at once. */
const MAIL_CHANNEL = "shop_notification_mail";

// Every order event records one: the rows and one NOTIFY (delivered at commit) in one statement.
const INSERT_PENDING = `
with added as (
  insert into notification.notifications (id, message_id, order_id, template, "to", subject, text_body, html_body, version, traceparent, correlation_id)
  select * from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int[], $10::text[], $11::text[])
  on conflict (message_id, template) do nothing
  returning id),
announced as (select pg_notify('${MAIL_CHANNEL}', '') from added limit 1)
select (select count(*)::int from added) as added, (select count(*) from announced) as announced`;

// `shop mail retry`: failed e-mails (all, or those of $1) owed again with fresh attempts, and one NOTIFY for the dispatcher.
const RETRY_FAILED = `
with retried as (
  update notification.notifications set status = 'pending', attempts = 0, next_attempt_at = now()
  where status = 'failed' and ($1::uuid[] is null or id = any($1::uuid[]))
  returning id, order_id, template, "to", last_error),
announced as (select pg_notify('${MAIL_CHANNEL}', '') from retried limit 1)
select id, order_id as "orderId", template, "to", last_error as "lastError", (select count(*)::int from announced) as announced
from retried order by id`;

/** The other e-mails of the same order, seen from a candidate of the claim. */
const earlier = alias(notifications, "earlier");

/** Reads and writes notification.notifications; every method runs on the executor it is given (pool or transaction). */
export const notificationRepository: NotificationRepository = {
  announceChannel: MAIL_CHANNEL,

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
      column((n) => n.version ?? null),
      column((n) => n.traceparent ?? null),
      column((n) => n.correlationId ?? null),
    ]);
    return row!.added;
  },

  /**
   * Takes up to `limit` pending e-mails that are due, oldest due first, for `leaseMs`: their next attempt moves
   * to the end of the lease, so no other dispatcher takes them meanwhile, and no row lock is held while they are
   * sent. A dispatcher that dies leaves them to be taken again when the lease runs out.
   * An order's e-mails are taken in version order (domain/email-sequence.ts): one whose predecessor is not recorded
   * yet is left until it is, or until it is `holdMs` old; one with an earlier e-mail of its order still pending
   * (owed, or leased to a dispatcher) is left until that one is sent or has failed — so two e-mails of one order are
   * never in one claim, nor sent by two dispatchers at once.
   */
  claimDue(
    db: Executor,
    limit: number,
    { leaseMs, holdMs, scope = "all" }: { leaseMs: number; holdMs: number; scope?: "recent" | "all" },
  ): Promise<Notification[]> {
    // "recent": only e-mails that fell due in the last 10 s. Sent and leased e-mails leave dead entries at the old
    // end of the due index until VACUUM; a claim that starts there reads all of them. The dispatcher makes most
    // passes recent ones and a full one now and then, which finds whatever fell due earlier.
    // now(), not clock_timestamp(): a stable value bounds the index scan, a volatile one only filters its rows —
    // and the due index also holds every e-mail leased in the last minute.
    const since = scope === "recent" ? sql`now() - interval '10 seconds'` : sql`'-infinity'::timestamptz`;
    const sameOrder = eq(earlier.orderId, notifications.orderId);
    // Still part of the one statement: an order's other e-mails are a probe of the order index, made only for the
    // e-mails that follow another one (the first e-mail of an order, the common case, stops at the version test).
    const inSequence = or(
      isNull(notifications.version),
      lte(notifications.version, FIRST_EMAIL_VERSION),
      and(
        or(
          lte(notifications.createdAt, sql`now() - ${holdMs} * interval '1 millisecond'`),
          // The one before it is recorded (or the order's mail came from events without versions).
          exists(
            db
              .select({ one: sql`1` })
              .from(earlier)
              .where(and(sameOrder, or(eq(earlier.version, sql`${notifications.version} - 1`), isNull(earlier.version)))),
          ),
        ),
        notExists(
          db
            .select({ one: sql`1` })
            .from(earlier)
            .where(and(sameOrder, eq(earlier.status, "pending"), lt(earlier.version, notifications.version))),
        ),
      ),
    );
    const due = db
      .select({ id: notifications.id })
      .from(notifications)
      .where(
        and(
          eq(notifications.status, "pending"),
          gt(notifications.nextAttemptAt, since),
          lte(notifications.nextAttemptAt, sql`now()`),
          inSequence,
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

  /** Failed e-mails (all, or those of `ids` that are failed) back to `pending` with no attempt used, due now; announced. */
  async retryFailed(db: Executor, ids?: readonly string[]): Promise<RetriedNotification[]> {
    const rows = await sqlOf(db).unsafe<Array<RetriedNotification & { announced: number }>>(RETRY_FAILED, [ids ? [...ids] : null]);
    return rows.map(({ announced: _, ...row }) => row);
  },

  /** The status of each of these e-mails that exists. */
  async statusesOf(db: Executor, ids: readonly string[]): Promise<Map<string, Notification["status"]>> {
    if (ids.length === 0) return new Map();
    const rows = await db.select({ id: notifications.id, status: notifications.status }).from(notifications).where(inArray(notifications.id, [...ids]));
    return new Map(rows.map((r) => [r.id, r.status]));
  },

  /** How many e-mails are `failed`, and the oldest of them (by recording). */
  async failedSummary(db: Executor): Promise<{ count: number; oldest?: Notification }> {
    const failed = eq(notifications.status, "failed");
    const [counted] = await db.select({ count: sql<number>`count(*)::int` }).from(notifications).where(failed);
    const [oldest] = await db.select().from(notifications).where(failed).orderBy(asc(notifications.createdAt)).limit(1);
    return { count: counted?.count ?? 0, oldest };
  },

  /** Newest first (ids are UUIDv7, so id order is creation order); `beforeId` is the keyset cursor. */
  list(db: Executor, query: { orderId?: string; beforeId?: string; limit: number }): Promise<Notification[]> {
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

