import type { Sql } from "../db.ts";
import type { Logger } from "../logger.ts";
import type { RetentionRule } from "./rule.ts";
import { sweepModule, type ModuleSweep } from "./sweep.ts";

/** One module's rules, with the background pool of the database its tables live in. */
export interface RetentionModule {
  name: string;
  /** The sweep holds one of this pool's connections while it sweeps the module. */
  sql: Sql;
  rules: RetentionRule[];
}

export interface RetentionSweeperOptions {
  modules: RetentionModule[];
  /** Time between the end of one sweep and the start of the next (and before the first). */
  intervalMs: number;
  logger: Logger;
  batchSize?: number;
}

/**
 * Runs every module's retention rules in the background of a `serve` process, one sweep every interval. Any number
 * of instances may run it: a module's sweep takes the module's advisory lock, and an instance that finds it taken
 * skips that module until its next sweep. Stops between two batches.
 */
export class RetentionSweeper {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(private readonly options: RetentionSweeperOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** One full sweep now (after the one in progress, if any); what each module's share did. */
  async sweepNow(): Promise<ModuleSweep[]> {
    while (this.running) await this.running.catch(() => {});
    const sweep = this.sweep();
    this.running = sweep;
    try {
      return await sweep;
    } finally {
      this.running = undefined;
    }
  }

  /** No further sweep; the batch in progress finishes. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    while (this.running) await this.running.catch(() => {});
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.sweepNow()
        .catch((error) => this.options.logger.warn({ err: (error as Error).message }, "retention sweep failed; will retry"))
        .finally(() => this.schedule());
    }, this.options.intervalMs);
    // Never the reason a process stays alive.
    this.timer.unref?.();
  }

  private async sweep(): Promise<ModuleSweep[]> {
    const { modules, logger, batchSize } = this.options;
    const swept: ModuleSweep[] = [];
    for (const { name, sql, rules } of modules) {
      if (this.stopped || rules.length === 0) continue;
      const started = performance.now();
      const result = await sweepModule(sql, name, rules, { batchSize, stopping: () => this.stopped });
      swept.push(result);
      if (result.skipped) {
        logger.debug({ module: name }, "retention: another instance is sweeping this module; skipped");
        continue;
      }
      for (const table of result.tables) {
        const entry = { module: name, table: table.table, what: table.what, [table.action === "delete" ? "deleted" : "cleared"]: table.rows, batches: table.batches };
        if (table.rows > 0) logger.info(entry, `retention: ${table.action === "delete" ? "deleted" : "cleared"} ${table.rows} row(s) of ${table.table}`);
        else logger.debug(entry, `retention: nothing to remove from ${table.table}`);
      }
      logger.debug({ module: name, ms: Math.round(performance.now() - started) }, "retention: module swept");
    }
    return swept;
  }
}
