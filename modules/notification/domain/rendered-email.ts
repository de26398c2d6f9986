import type { Static } from "@sinclair/typebox";
import { OrderCancelled, OrderConfirmed, OrderRejected, OrderShipped } from "../../orders/contract.ts";

/** The e-mails this module knows how to write; one per order event it listens to. */
export type TemplateName = "order-confirmed" | "order-rejected" | "order-cancelled" | "order-shipped";

/** The event each template is written for. */
export const TEMPLATE_EVENTS: Record<TemplateName, string> = {
  "order-confirmed": OrderConfirmed.name,
  "order-rejected": OrderRejected.name,
  "order-cancelled": OrderCancelled.name,
  "order-shipped": OrderShipped.name,
};

/** A finished e-mail, ready to store and send. */
export interface RenderedEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export type ConfirmedOrder = Static<typeof OrderConfirmed.schema>;
export type RejectedOrder = Static<typeof OrderRejected.schema>;
export type CancelledOrder = Static<typeof OrderCancelled.schema>;
export type ShippedOrder = Static<typeof OrderShipped.schema>;
/** What every order event carries (the lines, the total, the customer's address). */
export type OrderSnapshot = ConfirmedOrder;
