import type { DeliveryStatus } from "./delivery-policy.ts";
import type { RenderedEmail, TemplateName } from "./rendered-email.ts";

/** One e-mail about an order, as the module keeps it from recording to delivery. */
export interface Notification {
  id: string;
  /** The event it was rendered from: with `template`, what makes a redelivered event record nothing new. */
  messageId: string;
  orderId: string;
  template: TemplateName;
  to: string;
  subject: string;
  /** Emptied by the retention sweep once the e-mail is long sent. */
  textBody: string;
  htmlBody: string;
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  sentAt: Date | null;
  nextAttemptAt: Date;
  /** The order's version the event carried; null for an event sent before orders added it. */
  version: number | null;
  /** The trace context of the delivery that recorded it (null while tracing is off): sending it continues that trace. */
  traceparent: string | null;
  /** The correlation id of the event it was rendered from (null for one recorded before it was kept). */
  correlationId: string | null;
}

/** An e-mail to record for an order event. */
export interface NewNotification {
  messageId: string;
  orderId: string;
  template: TemplateName;
  email: RenderedEmail;
  /** The order's version the event carried; undefined for an event sent before orders added it. */
  version?: number;
  /** The trace context of the delivery that records it; undefined while tracing is off. */
  traceparent?: string;
  /** The correlation id of the event: the e-mail's delivery is logged with it. */
  correlationId?: string;
}

/** A failed e-mail put back to pending. */
export interface RetriedNotification {
  id: string;
  orderId: string;
  template: TemplateName;
  to: string;
  lastError: string | null;
}
