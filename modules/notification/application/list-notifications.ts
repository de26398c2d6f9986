import { isUuid } from "../../../src/platform/formats.ts";
import { readPage, type Keyset, type Page } from "../../../src/platform/paging.ts";
import type { Notification } from "../domain/notification.ts";
import type { NotificationDeps } from "../ports.ts";

export type NotificationPage = Page<Notification>;

/** Page size when the request gives no `limit`: an admin scanning e-mails reads more than a storefront page. */
export const NOTIFICATION_PAGE_SIZE = 50;

/** E-mails page by id, newest first (ids are UUIDv7): a cursor carries the last id of its page. */
const notificationKeyset: Keyset<Notification, string> = {
  invalidCursorCode: "NOTIFICATION.INVALID_CURSOR",
  cursorOf: (notification) => ({ id: notification.id }),
  positionOf: (payload) => {
    const id = typeof payload === "object" && payload !== null ? (payload as { id?: unknown }).id : undefined;
    return typeof id === "string" && isUuid(id) ? id : undefined;
  },
};

/** A page of e-mails, newest first, optionally those of one order. */
export function listNotifications(
  deps: Pick<NotificationDeps, "db" | "notifications">,
  query: { orderId?: string; cursor?: string; limit?: number },
): Promise<NotificationPage> {
  return readPage(notificationKeyset, { ...query, defaultLimit: NOTIFICATION_PAGE_SIZE }, ({ after, limit }) =>
    deps.notifications.list(deps.db, { orderId: query.orderId, beforeId: after, limit }),
  );
}
