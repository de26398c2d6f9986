import type { Sql } from "../db.ts";
import type { RetentionRule } from "./rule.ts";

/** Rows per statement: each batch is its own short transaction, so no lock or snapshot is held for long. */
export const SWEEP_BATCH_SIZE = 1000;

// With the module's name hashed into the second key: one lock per module, shared by every shop instance.
export const RETENTION_LOCK = 7_240_002;

/** What one rule removed (or, in a dry run, would remove). */
export interface TableSweep {
  table: string;
  what: string;
  action: RetentionRule["action"];
  rows: number;
  /** Statements it took (0 in a dry run). */
  batches: number;
}

/** One module's share of a sweep; `skipped` when another instance held the module's lock. */
export interface ModuleSweep {
  module: string;
  skipped: boolean;
  tables: TableSweep[];
}

export interface SweepOptions {
  /** Count what would go, change nothing. */
  dryRun?: boolean;
  batchSize?: number;
  /** Asked between batches: true ends the sweep there (shutdown). */
  stopping?: () => boolean;
}

/**
 * Applies one module's retention rules under the module's advisory lock, taken with pg_try_advisory_lock on a
 * connection of its own: when another instance is sweeping the module, this one skips it instead of waiting.
 * Each rule runs batch after batch until a batch comes back short.
 */
export async function sweepModule(sql: Sql, module: string, rules: RetentionRule[], options: SweepOptions = {}): Promise<ModuleSweep> {
  const batchSize = options.batchSize ?? SWEEP_BATCH_SIZE;
  const connection = await sql.reserve();
  try {
    const [lock] = await connection<{ locked: boolean }[]>`select pg_try_advisory_lock(${RETENTION_LOCK}, hashtext(${module})) as locked`;
    if (!lock!.locked) return { module, skipped: true, tables: [] };
    try {
      const tables: TableSweep[] = [];
      for (const rule of rules) {
        if (options.stopping?.()) break;
        const swept: TableSweep = { table: rule.table, what: rule.what, action: rule.action, rows: 0, batches: 0 };
        tables.push(swept);
        if (options.dryRun) {
          const [row] = await connection.unsafe<{ n: number }[]>(rule.count);
          swept.rows = row!.n;
          continue;
        }
        for (;;) {
          const result = await connection.unsafe(rule.batch, [batchSize]);
          swept.batches++;
          swept.rows += result.count;
          if (result.count < batchSize || options.stopping?.()) break;
        }
      }
      return { module, skipped: false, tables };
    } finally {
      await connection`select pg_advisory_unlock(${RETENTION_LOCK}, hashtext(${module}))`;
    }
  } finally {
    connection.release();
  }
}
