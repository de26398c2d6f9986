import type { EventData, EventDefinition } from "../../../src/platform/messaging/event.ts";
import type { BatchContext, BatchItem } from "../../../src/platform/messaging/handler.ts";
import type { RenderedEmail, TemplateName } from "../domain/rendered-email.ts";
import type { NotificationDeps } from "../ports.ts";

/** Which e-mail an order event becomes. */
export interface OrderEmail<E extends EventDefinition> {
  template: TemplateName;
  render(order: EventData<E>): RenderedEmail;
}

/**
 * One e-mail per order event: rendered from the event's order snapshot and stored as `pending` in the
 * handler's (inbox) transaction — a batch of events in one statement. Nothing is sent here — a slow mail server
 * must not hold the message's transaction, and a rollback after a send would send twice; the MailDispatcher
 * sends after commit, in the order of the order's versions the events carry. The same event delivered again records
 * nothing new (unique message id + template).
 */
export async function recordOrderEmails<E extends EventDefinition>(
  deps: Pick<NotificationDeps, "notifications">,
  items: BatchItem<E>[],
  ctx: BatchContext,
  email: OrderEmail<E>,
): Promise<void> {
  await deps.notifications.insertPending(
    ctx.tx,
    items.map(({ data, envelope, traceparent }) => {
      const { orderId, version } = data as { orderId: string; version?: number };
      return { messageId: envelope.id, orderId, template: email.template, email: email.render(data), version, traceparent, correlationId: envelope.correlationId };
    }),
  );
}
