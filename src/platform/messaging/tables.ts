import { index, integer, jsonb, primaryKey, text, timestamp, uuid, type PgSchema } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";
import type { Envelope } from "./envelope.ts";

/** The transactional outbox of one module, in that module's own Postgres schema. */
export function outboxTable(schema: PgSchema) {
  return schema.table(
    "outbox",
    {
      id: uuid("id").primaryKey(),
      name: text("name").notNull(),
      envelope: jsonb("envelope").$type<Envelope>().notNull(),
      createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
      sentAt: timestamp("sent_at", { withTimezone: true, mode: "date" }),
      attempts: integer("attempts").notNull().default(0),
      lastError: text("last_error"),
      /** A relay has taken the row until then (it is publishing it); after that any relay may take it again. */
      claimedUntil: timestamp("claimed_until", { withTimezone: true, mode: "date" }),
    },
    (table) => [
      index("outbox_unsent_idx").on(table.createdAt).where(sql`${table.sentAt} is null`),
      // The retention sweep's scan (sent rows by age). Claims never change sent_at, so they stay HOT updates.
      index("outbox_sent_idx").on(table.sentAt).where(sql`${table.sentAt} is not null`),
    ],
  );
}

/** Messages a module's handlers already applied: the key that makes a redelivery a no-op. */
export function inboxTable(schema: PgSchema) {
  return schema.table(
    "inbox",
    {
      messageId: uuid("message_id").notNull(),
      handler: text("handler").notNull(),
      processedAt: timestamp("processed_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    },
    (table) => [
      primaryKey({ columns: [table.messageId, table.handler] }),
      // The retention sweep's scan (records by age).
      index("inbox_processed_idx").on(table.processedAt),
    ],
  );
}

export type OutboxTable = ReturnType<typeof outboxTable>;
export type InboxTable = ReturnType<typeof inboxTable>;
