import { sql } from "drizzle-orm";
import { check, index, integer, pgSchema, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";
import { inboxTable, outboxTable } from "../../../src/platform/messaging/tables.ts";
import type { DeliveryStatus } from "../domain/delivery-policy.ts";
import type { TemplateName } from "../domain/rendered-email.ts";

export const notificationSchema = pgSchema("notification");

/**
 * Every e-mail the module owes a customer: written `pending` by the event handler (in the inbox
 * transaction), then sent — outside any handler transaction — by the MailDispatcher.
 */
export const notifications = notificationSchema.table(
  "notifications",
  {
    id: uuid("id").primaryKey(),
    /** The id of the event that asked for this e-mail: with `template`, what makes a redelivery a no-op. */
    messageId: uuid("message_id").notNull(),
    orderId: uuid("order_id").notNull(),
    template: text("template").$type<TemplateName>().notNull(),
    to: text("to").notNull(),
    subject: text("subject").notNull(),
    /** Both bodies are emptied ('') once a sent e-mail is older than SENT_EMAIL_BODY_RETENTION; the row stays. */
    textBody: text("text_body").notNull(),
    htmlBody: text("html_body").notNull(),
    status: text("status").$type<DeliveryStatus>().notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    sentAt: timestamp("sent_at", { withTimezone: true, mode: "date" }),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    /**
     * The order's version the event carried (null for an event sent before orders added it): an order's e-mails go
     * out in this order (see the dispatcher's claim).
     */
    version: integer("version"),
    /**
     * The W3C trace context of the event delivery that recorded the e-mail (null while tracing is off): the sending,
     * later and elsewhere, continues that trace.
     */
    traceparent: text("traceparent"),
    /** The correlation id of the event that asked for it (null for one recorded before it was kept): its delivery's log lines carry it. */
    correlationId: text("correlation_id"),
  },
  (table) => [
    unique("notifications_message_template_key").on(table.messageId, table.template),
    check(
      "notifications_template_check",
      sql`${table.template} in ('order-confirmed', 'order-rejected', 'order-cancelled', 'order-shipped')`,
    ),
    check("notifications_status_check", sql`${table.status} in ('pending', 'sent', 'failed')`),
    check("notifications_attempts_check", sql`${table.attempts} >= 0`),
    check("notifications_sent_at_check", sql`(${table.status} = 'sent') = (${table.sentAt} is not null)`),
    // What the dispatcher scans on every pass: only the rows still owed, in due order.
    index("notifications_due_idx").on(table.nextAttemptAt).where(sql`${table.status} = 'pending'`),
    index("notifications_order_idx").on(table.orderId, table.id),
    // The retention sweep's scan: sent e-mails that still have their bodies, by age (a cleared one leaves it).
    index("notifications_sent_bodies_idx").on(table.sentAt).where(sql`${table.status} = 'sent' and ${table.htmlBody} <> ''`),
    // The e-mails given up on, oldest first: what `shop check` reports and `shop mail retry` takes back.
    index("notifications_failed_idx").on(table.createdAt).where(sql`${table.status} = 'failed'`),
  ],
);

export const outbox = outboxTable(notificationSchema);
export const inbox = inboxTable(notificationSchema);
