import { Type as t, type Static } from "@sinclair/typebox";
import type { Executor } from "../../../src/platform/db.ts";
import type { NotificationRepository } from "../infrastructure/notification-repository.ts";

/** One e-mail as the admin API shows it (bodies left out: they are in the customer's mailbox or the log). */
export const NotificationViewSchema = t.Object({
  id: t.String({ format: "uuid" }),
  orderId: t.String({ format: "uuid" }),
  template: t.Union([t.Literal("order-confirmed"), t.Literal("order-rejected"), t.Literal("order-cancelled"), t.Literal("order-shipped")]),
  to: t.String(),
  subject: t.String(),
  status: t.Union([t.Literal("pending"), t.Literal("sent"), t.Literal("failed")]),
  attempts: t.Integer({ minimum: 0 }),
  lastError: t.Union([t.String(), t.Null()]),
  createdAt: t.String({ format: "date-time" }),
  sentAt: t.Union([t.String({ format: "date-time" }), t.Null()]),
});

export const NotificationPageSchema = t.Object({
  items: t.Array(NotificationViewSchema),
  nextCursor: t.Union([t.String(), t.Null()], { description: "pass as ?cursor= for the next page; null on the last page" }),
});

export type NotificationPage = Static<typeof NotificationPageSchema>;

/** A page of e-mails, newest first, optionally those of one order. */
export async function listNotifications(
  db: Executor,
  repository: NotificationRepository,
  query: { orderId?: string; cursor?: string; limit: number },
): Promise<NotificationPage> {
  // One row more than asked tells whether another page exists without a count query.
  const rows = await repository.list(db, { orderId: query.orderId, beforeId: query.cursor, limit: query.limit + 1 });
  const page = rows.slice(0, query.limit);
  const items = page.map((row) => ({
    id: row.id,
    orderId: row.orderId,
    template: row.template,
    to: row.to,
    subject: row.subject,
    status: row.status,
    attempts: row.attempts,
    lastError: row.lastError,
    createdAt: row.createdAt.toISOString(),
    sentAt: row.sentAt?.toISOString() ?? null,
  }));
  return { items, nextCursor: rows.length > query.limit ? (page.at(-1)?.id ?? null) : null };
}
