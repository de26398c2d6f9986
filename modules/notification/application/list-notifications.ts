import type { Notification } from "../domain/notification.ts";
import type { NotificationDeps } from "../ports.ts";

export interface NotificationPage {
  items: Notification[];
  /** The last item's id when another page follows; null on the last page. */
  nextCursor: string | null;
}

/** A page of e-mails, newest first, optionally those of one order. */
export async function listNotifications(
  deps: Pick<NotificationDeps, "db" | "notifications">,
  query: { orderId?: string; cursor?: string; limit: number },
): Promise<NotificationPage> {
  // One row more than asked tells whether another page exists without a count query.
  const rows = await deps.notifications.list(deps.db, { orderId: query.orderId, beforeId: query.cursor, limit: query.limit + 1 });
  const items = rows.slice(0, query.limit);
  return { items, nextCursor: rows.length > query.limit ? (items.at(-1)?.id ?? null) : null };
}
