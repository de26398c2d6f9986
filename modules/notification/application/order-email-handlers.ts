import type { EventData, EventDefinition } from "../../../src/platform/messaging/event.ts";
import { onBatch, type EventHandler } from "../../../src/platform/messaging/handler.ts";
import { OrderCancelled, OrderConfirmed, OrderRejected, OrderShipped } from "../../orders/contract.ts";
import { renderOrderCancelled, renderOrderConfirmed, renderOrderRejected, renderOrderShipped } from "../domain/order-templates.ts";
import type { RenderedEmail, TemplateName } from "../domain/rendered-email.ts";
import type { NotificationRepository } from "../infrastructure/notification-repository.ts";

/**
 * One e-mail per order event: rendered from the event's order snapshot and stored as `pending` in the
 * handler's (inbox) transaction — a batch of events in one statement. Nothing is sent here — a slow mail server
 * must not hold the message's transaction, and a rollback after a send would send twice; the MailDispatcher
 * sends after commit, in the order of the order's versions the events carry. The same event delivered again records
 * nothing new (unique message id + template).
 */
export function orderEmailHandlers(repository: NotificationRepository): EventHandler[] {
  const recording = <E extends EventDefinition>(event: E, template: TemplateName, render: (order: EventData<E>) => RenderedEmail) =>
    onBatch(event, async (items, { tx }) => {
      await repository.insertPending(
        tx,
        items.map(({ data, envelope }) => {
          const { orderId, version } = data as { orderId: string; version?: number };
          return { messageId: envelope.id, orderId, template, email: render(data), version };
        }),
      );
    });
  return [
    recording(OrderConfirmed, "order-confirmed", renderOrderConfirmed),
    recording(OrderRejected, "order-rejected", renderOrderRejected),
    recording(OrderCancelled, "order-cancelled", renderOrderCancelled),
    recording(OrderShipped, "order-shipped", renderOrderShipped),
  ];
}
