import type { RetriedNotification } from "../domain/notification.ts";
import type { NotificationDeps } from "../ports.ts";

export interface RetryOutcome {
  /** The failed e-mails now owed again, with fresh attempts, due at once. */
  retried: RetriedNotification[];
  /** Ids asked for that were left alone: not failed (`pending` or `sent`), or no such e-mail (`unknown`). */
  leftAlone: Array<{ id: string; status: "pending" | "sent" | "unknown" }>;
}

/**
 * `shop mail retry`: puts failed e-mails — every one, or those of `ids` — back to `pending` with their attempts
 * reset, and wakes the dispatchers, which send them as any new e-mail (in their order's sequence). Their last error
 * stays on record. An e-mail that is not failed is never touched: a sent one is not sent again.
 */
export async function retryFailedEmails(deps: Pick<NotificationDeps, "db" | "notifications">, ids?: readonly string[]): Promise<RetryOutcome> {
  const retried = await deps.notifications.retryFailed(deps.db, ids);
  if (!ids) return { retried, leftAlone: [] };
  const done = new Set(retried.map((r) => r.id));
  const others = ids.filter((id) => !done.has(id));
  const statuses = await deps.notifications.statusesOf(deps.db, others);
  const leftAlone = [...new Set(others)].map((id) => ({ id, status: (statuses.get(id) as "pending" | "sent" | undefined) ?? ("unknown" as const) }));
  return { retried, leftAlone };
}
