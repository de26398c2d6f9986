import { asc, inArray, isNull, sql } from "drizzle-orm";
import type { DatabaseHandle } from "../db.ts";
import type { Logger } from "../logger.ts";
import { NotifiedLoop } from "../notified-loop.ts";
import type { Envelope } from "./envelope.ts";
import { OUTBOX_CHANNEL } from "./outbox.ts";
import type { OutboxTable } from "./tables.ts";

export interface RelayOptions {
  module: string;
  database: DatabaseHandle;
  table: OutboxTable;
  publish: (envelope: Envelope) => Promise<void>;
  canPublish: () => boolean;
  pollMs: number;
  logger: Logger;
  batchSize?: number;
}

/**
 * Moves one module's outbox to RabbitMQ. Wakes on the outbox's NOTIFY (and a poll timer), claims rows
 * with FOR UPDATE SKIP LOCKED so any number of instances can run it, and marks a row sent only after
 * the broker confirmed it. A row whose publish failed stays unsent and is tried again on a later pass.
 */
export class OutboxRelay {
  private readonly loop: NotifiedLoop;
  private readonly batchSize: number;

  constructor(private readonly options: RelayOptions) {
    this.batchSize = options.batchSize ?? 100;
    this.loop = new NotifiedLoop({
      name: `${options.module} outbox relay`,
      sql: options.database.sql,
      channel: OUTBOX_CHANNEL,
      accepts: (payload) => payload === options.module,
      pollMs: options.pollMs,
      pass: async () => {
        if (!options.canPublish()) return false;
        const { claimed, failed } = await this.pass();
        return failed === 0 && claimed === this.batchSize;
      },
      logger: options.logger,
    });
  }

  start(): Promise<void> {
    return this.loop.start();
  }

  wake(): void {
    this.loop.wake();
  }

  idle(): Promise<void> {
    return this.loop.idle();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async pass(): Promise<{ claimed: number; failed: number }> {
    const { table, database, publish } = this.options;
    return database.db.transaction(async (tx) => {
      const rows = await tx
        .select({ id: table.id, envelope: table.envelope })
        .from(table)
        .where(isNull(table.sentAt))
        .orderBy(asc(table.createdAt), asc(table.id))
        .limit(this.batchSize)
        .for("update", { skipLocked: true });
      if (rows.length === 0) return { claimed: 0, failed: 0 };

      // All publishes go out on one confirm channel in order; wait for every confirm.
      const results = await Promise.allSettled(rows.map((row) => publish(row.envelope)));
      const sent = rows.filter((_, i) => results[i]!.status === "fulfilled").map((r) => r.id);
      const failed = rows.filter((_, i) => results[i]!.status === "rejected").map((r) => r.id);
      if (sent.length > 0) await tx.update(table).set({ sentAt: sql`now()` }).where(inArray(table.id, sent));
      if (failed.length > 0) {
        const rejection = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
        const reason = String(rejection.reason?.message ?? rejection.reason ?? "publish failed");
        await tx
          .update(table)
          .set({ attempts: sql`${table.attempts} + 1`, lastError: reason.slice(0, 500) })
          .where(inArray(table.id, failed));
      }
      return { claimed: rows.length, failed: failed.length };
    });
  }
}
