import type { PgTable } from "drizzle-orm/pg-core";
import { qualifiedName } from "../db.ts";

/**
 * One kind of row a module stops keeping after a while: which table, what is removed, and the statements that do
 * it. Build it with `expireRows`; a module declares its rules through its ModuleDefinition's `retention`.
 */
export interface RetentionRule {
  /** The table, schema-qualified as in SQL: `orders.outbox`. */
  table: string;
  /** What goes, for the logs and `shop prune`: "sent events older than 7d". */
  what: string;
  /** Rows are deleted, or only some columns are cleared (the row stays). */
  action: "delete" | "clear";
  /** One statement that removes (or clears) at most `$1` expired rows, skipping rows locked by others. */
  batch: string;
  /** One statement that counts the expired rows (`n`), for a dry run. */
  count: string;
}

/** The periods the operator configured (README: Retention); each module picks the ones of its tables. */
export interface RetentionPeriods {
  /** Sent outbox rows (OUTBOX_RETENTION). */
  sentOutboxMs: number;
  /**
   * Inbox rows and every other record that makes a late delivery harmless (INBOX_RETENTION): the consumer parks
   * an event older than this rather than apply it, so such a record is never needed after this long.
   */
  inboxMs: number;
  /** Bodies of sent e-mails (SENT_EMAIL_BODY_RETENTION). */
  sentEmailBodyMs: number;
}

export interface ExpireRowsOptions {
  table: PgTable;
  /** What goes, said for people: "sent events". The period is appended ("… older than 7d"). */
  what: string;
  /** The timestamp column (SQL) the age is measured from; only rows where it is set are considered. */
  since: string;
  periodMs: number;
  /** Further SQL conditions a row must meet to expire (e.g. its status). */
  where?: string;
  /** `column = value, …` to clear instead of deleting the row; the conditions must then exclude cleared rows. */
  clear?: string;
}

/**
 * A rule that removes rows whose `since` is older than the period, at most `$1` per statement. The rows are
 * picked with FOR UPDATE SKIP LOCKED (a row some transaction holds is left for the next sweep, nothing waits) and
 * addressed by ctid within the same statement, so each batch is a short index scan plus a TID scan.
 */
export function expireRows(options: ExpireRowsOptions): RetentionRule {
  const table = qualifiedName(options.table);
  const seconds = Math.floor(options.periodMs / 1000) + (options.periodMs % 1000) / 1000;
  const expired = [`${options.since} < now() - make_interval(secs => ${seconds})`, ...(options.where ? [options.where] : [])].join(" and ");
  const picked = `ctid = any(array(select ctid from ${table} where ${expired} limit $1::int for update skip locked))`;
  return {
    table: table.replaceAll('"', ""),
    what: `${options.what} older than ${formatPeriod(options.periodMs)}`,
    action: options.clear ? "clear" : "delete",
    batch: options.clear ? `update ${table} set ${options.clear} where ${picked}` : `delete from ${table} where ${picked}`,
    count: `select count(*)::int as n from ${table} where ${expired}`,
  };
}

/** 30d, 12h, 15m, 30s or 500ms: the largest unit that divides the period. */
export function formatPeriod(ms: number): string {
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
