import { onBatch, type EventHandler } from "../../src/platform/messaging/handler.ts";
import { OrderCancelled, OrderConfirmed, OrderRejected, OrderShipped } from "../orders/contract.ts";
import { recordOrderEmails } from "./application/record-order-emails.ts";
import { renderOrderCancelled, renderOrderConfirmed, renderOrderRejected, renderOrderShipped } from "./domain/order-templates.ts";
import type { NotificationDeps } from "./ports.ts";

/** What notification does with each event it consumes: one use case per event, called as `(deps, items, ctx)`. */
export function notificationHandlers(deps: Pick<NotificationDeps, "notifications">): EventHandler[] {
  return [
    onBatch(OrderConfirmed, (items, ctx) => recordOrderEmails(deps, items, ctx, { template: "order-confirmed", render: renderOrderConfirmed })),
    onBatch(OrderRejected, (items, ctx) => recordOrderEmails(deps, items, ctx, { template: "order-rejected", render: renderOrderRejected })),
    onBatch(OrderCancelled, (items, ctx) => recordOrderEmails(deps, items, ctx, { template: "order-cancelled", render: renderOrderCancelled })),
    onBatch(OrderShipped, (items, ctx) => recordOrderEmails(deps, items, ctx, { template: "order-shipped", render: renderOrderShipped })),
  ];
}
