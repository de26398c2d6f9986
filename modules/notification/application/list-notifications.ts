import { Type as t, type Static } from "@sinclair/typebox";
import type { Executor } from "../../../src/platform/db.ts";
import { readPage, type Keyset } from "../../../src/platform/paging.ts";
import type { NotificationRepository, NotificationRow } from "../infrastructure/notification-repository.ts";

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
  nextCursor: t.Union([t.String(), t.Null()], { description: "pass as `cursor` for the next page; null on the last page" }),
});

export type NotificationPage = Static<typeof NotificationPageSchema>;

/** Page size when the request gives no `limit`: an admin scanning e-mails reads more than a storefront page. */
export const NOTIFICATION_PAGE_SIZE = 50;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** E-mails page by id, newest first (ids are UUIDv7): a cursor carries the last id of its page. */
const notificationKeyset: Keyset<NotificationRow, string> = {
  invalidCursorCode: "NOTIFICATION.INVALID_CURSOR",
  cursorOf: (row) => ({ id: row.id }),
  positionOf: (payload) => {
    const id = typeof payload === "object" && payload !== null ? (payload as { id?: unknown }).id : undefined;
    return typeof id === "string" && UUID.test(id) ? id : undefined;
  },
};

/** A page of e-mails, newest first, optionally those of one order. */
export async function listNotifications(
  db: Executor,
  repository: NotificationRepository,
  query: { orderId?: string; cursor?: string; limit?: number },
): Promise<NotificationPage> {
  const page = await readPage(notificationKeyset, { ...query, defaultLimit: NOTIFICATION_PAGE_SIZE }, ({ after, limit }) =>
    repository.list(db, { orderId: query.orderId, beforeId: after, limit }),
  );
  const items = page.items.map((row) => ({
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
  return { items, nextCursor: page.nextCursor };
}
