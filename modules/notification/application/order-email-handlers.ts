import type { Executor } from "../../../src/platform/db.ts";
import { on, type EventHandler } from "../../../src/platform/messaging/handler.ts";
import { OrderCancelled, OrderConfirmed, OrderRejected, OrderShipped } from "../../orders/contract.ts";
import { renderOrderCancelled, renderOrderConfirmed, renderOrderRejected, renderOrderShipped } from "../domain/order-templates.ts";
import type { NewNotification, NotificationRepository } from "../infrastructure/notification-repository.ts";

/**
 * One e-mail per order event: rendered from the event's order snapshot and stored as `pending` in the
 * handler's (inbox) transaction. Nothing is sent here — a slow mail server must not hold the message's
 * transaction, and a rollback after a send would send twice; the MailDispatcher sends after commit.
 * The same event delivered again records nothing new (unique message id + template).
 */
export function orderEmailHandlers(repository: NotificationRepository): EventHandler[] {
  const record = (tx: Executor, notification: NewNotification) => repository.insertPending(tx, notification);
  return [
    on(OrderConfirmed, async (order, { tx, envelope }) => {
      await record(tx, { messageId: envelope.id, orderId: order.orderId, template: "order-confirmed", email: renderOrderConfirmed(order) });
    }),
    on(OrderRejected, async (order, { tx, envelope }) => {
      await record(tx, { messageId: envelope.id, orderId: order.orderId, template: "order-rejected", email: renderOrderRejected(order) });
    }),
    on(OrderCancelled, async (order, { tx, envelope }) => {
      await record(tx, { messageId: envelope.id, orderId: order.orderId, template: "order-cancelled", email: renderOrderCancelled(order) });
    }),
    on(OrderShipped, async (order, { tx, envelope }) => {
      await record(tx, { messageId: envelope.id, orderId: order.orderId, template: "order-shipped", email: renderOrderShipped(order) });
    }),
  ];
}
