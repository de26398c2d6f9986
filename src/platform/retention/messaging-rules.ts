import type { InboxTable, OutboxTable } from "../messaging/tables.ts";
import { expireRows, type RetentionPeriods, type RetentionRule } from "./rule.ts";

/**
 * The rules every module with an outbox and an inbox declares for them: sent events go after OUTBOX_RETENTION
 * (an unsent one never: it is still owed to the broker), inbox records after INBOX_RETENTION.
 */
export function messagingRetention(tables: { outbox: OutboxTable; inbox: InboxTable }, periods: RetentionPeriods): RetentionRule[] {
  return [
    expireRows({ table: tables.outbox, what: "sent events", since: "sent_at", periodMs: periods.sentOutboxMs }),
    expireRows({ table: tables.inbox, what: "processed message ids", since: "processed_at", periodMs: periods.inboxMs }),
  ];
}
