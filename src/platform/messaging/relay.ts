import { asc, inArray, isNull, sql } from "drizzle-orm";
import type { DatabaseHandle } from "../db.ts";
import type { Logger } from "../logger.ts";
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
 * Moves one module's outbox to RabbitMQ. Wakes on NOTIFY (and on a poll timer, in case a notification
 * was lost while the listener reconnected), claims rows with FOR UPDATE SKIP LOCKED so any number of
 * instances can run it, and marks a row sent only after the broker confirmed it.
 */
export class OutboxRelay {
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private unlisten: (() => Promise<void>) | undefined;

  constructor(private readonly options: RelayOptions) {}

  async start(): Promise<void> {
    this.timer = setInterval(() => this.wake(), this.options.pollMs);
    try {
      const { unlisten } = await this.options.database.sql.listen(
        OUTBOX_CHANNEL,
        (payload) => {
          if (payload === this.options.module) this.wake();
        },
        // Runs on every (re)listen: catch up on what was committed while the listener was away.
        () => this.wake(),
      );
      this.unlisten = unlisten;
    } catch (error) {
      // The poll timer still drains the outbox; LISTEN only makes it prompt.
      this.options.logger.warn({ err: (error as Error).message, module: this.options.module }, "outbox LISTEN failed; polling only");
    }
    this.wake();
  }

  /** Asks for a drain pass; passes never overlap, and a wake during a pass schedules one more. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Resolves when the current pass (if any) is over. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.unlisten?.().catch(() => {});
    await this.idle();
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped && this.options.canPublish()) {
        const { claimed, failed } = await this.pass();
        if (failed > 0 || claimed < (this.options.batchSize ?? 100)) return;
      }
    } catch (error) {
      this.options.logger.warn({ err: (error as Error).message, module: this.options.module }, "outbox relay pass failed; will retry");
    }
  }

  private async pass(): Promise<{ claimed: number; failed: number }> {
    const { table, database, publish } = this.options;
    return database.db.transaction(async (tx) => {
      const rows = await tx
        .select({ id: table.id, envelope: table.envelope })
        .from(table)
        .where(isNull(table.sentAt))
        .orderBy(asc(table.createdAt), asc(table.id))
        .limit(this.options.batchSize ?? 100)
        .for("update", { skipLocked: true });
      if (rows.length === 0) return { claimed: 0, failed: 0 };

      // All publishes go out on one confirm channel in order; wait for every confirm.
      const results = await Promise.allSettled(rows.map((row) => publish(row.envelope)));
      const sent = rows.filter((_, i) => results[i]!.status === "fulfilled").map((r) => r.id);
      const failed = rows.filter((_, i) => results[i]!.status === "rejected");
      if (sent.length > 0) await tx.update(table).set({ sentAt: sql`now()` }).where(inArray(table.id, sent));
      if (failed.length > 0) {
        const reason = String((results.find((r) => r.status === "rejected") as PromiseRejectedResult).reason?.message ?? "publish failed");
        await tx
          .update(table)
          .set({ attempts: sql`${table.attempts} + 1`, lastError: reason.slice(0, 500) })
          .where(inArray(table.id, failed.map((r) => r.id)));
      }
      return { claimed: rows.length, failed: failed.length };
    });
  }
}
