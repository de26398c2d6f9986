import { isFinal } from "../domain/order-status.ts";
import { statusEvents, type StatusEvent } from "../domain/status-event.ts";
import type { Order } from "../domain/order.ts";
import type { OrderChanges, OrdersDeps } from "../ports.ts";

/**
 * Sends an order's status events as they happen, until the order reaches a final status or `signal` aborts.
 * First what the client has not seen: with `after` (the last version it saw) every status with a higher version,
 * from the order's history; without it, the current status. Then each change: a notification only wakes the
 * stream, which reads the order again and sends what is newer than what it sent — nothing lost, nothing twice.
 * The caller checked that the viewer may see the order.
 */
export async function followOrderStatus(
  deps: Pick<OrdersDeps, "db" | "orders"> & { orderChanges: OrderChanges },
  input: { orderId: string; after?: number },
  send: (event: StatusEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  let sent = input.after;
  let stale = true;
  let woken = Promise.withResolvers<void>();
  const wake = () => woken.resolve();
  // Subscribed before the first read: a change committed in between is read then, or wakes the stream after.
  const unsubscribe = deps.orderChanges.subscribe(input.orderId, (version) => {
    if (version !== undefined && sent !== undefined && version <= sent) return;
    stale = true;
    wake();
  });
  signal.addEventListener("abort", wake);
  try {
    let first = true;
    while (!signal.aborted) {
      if (!stale) {
        await woken.promise;
        woken = Promise.withResolvers<void>();
        continue;
      }
      stale = false;
      const order = await deps.orders.findById(deps.db, input.orderId);
      if (!order || signal.aborted) return;
      const events = statusEvents(order);
      // A Last-Event-ID above the order's version was not handed out for this order: start from its current status.
      if (first && sent !== undefined && sent > order.version) sent = undefined;
      first = false;
      const due = sent === undefined ? events.slice(-1) : events.filter((e) => e.version > sent!);
      for (const event of due) send(event);
      sent = Math.max(sent ?? 0, order.version);
      if (isFinal(order.status)) return;
    }
  } finally {
    unsubscribe();
    signal.removeEventListener("abort", wake);
  }
}

/**
 * False when a client resuming `after` has already seen the order's final status: nothing will ever follow, so the
 * stream should not even open (the edge answers 204, which tells an EventSource to stop reconnecting).
 */
export function hasStatusToFollow(order: Pick<Order, "status" | "version">, after: number | undefined): boolean {
  return !(isFinal(order.status) && after === order.version);
}
