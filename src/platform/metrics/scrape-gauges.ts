import { Gauge, type Registry } from "prom-client";
import { qualifiedName, sqlOf, type DatabaseHandle } from "../db.ts";
import type { OutboxTable } from "../messaging/tables.ts";

/** How long a scrape waits for a read (a database or a broker that hangs must not hang the scrape). */
const READ_TIMEOUT_MS = 2_000;

/**
 * A value read at scrape time, kept for `maxAgeMs`: scrapes close together (several Prometheus servers, a
 * dashboard's refresh) share one read. A read that fails or takes longer than 2 s leaves the last value.
 */
export function cachedRead<T>(maxAgeMs: number, read: () => Promise<T>): () => Promise<T | undefined> {
  let value: T | undefined;
  let readAt = -Infinity;
  let reading: Promise<void> | undefined;
  return async () => {
    if (performance.now() - readAt >= maxAgeMs) {
      reading ??= (async () => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("metrics read timed out")), READ_TIMEOUT_MS);
        });
        try {
          value = await Promise.race([read(), timeout]);
        } catch {
          // The last value stays.
        } finally {
          clearTimeout(timer);
          readAt = performance.now();
          reading = undefined;
        }
      })();
      await reading;
    }
    return value;
  };
}

export interface OutboxSource {
  module: string;
  database: DatabaseHandle;
  table: OutboxTable;
}

/**
 * Per module, the unsent events of its outbox and the age of the oldest: one query per module per scrape (at most
 * one a second), on the partial index of unsent rows the relay claims from.
 */
export function outboxGauges(registry: Registry, sources: readonly OutboxSource[], maxAgeMs = 1_000): void {
  const reads = sources.map((source) => {
    const statement = `select count(*)::int as unsent, coalesce(extract(epoch from clock_timestamp() - min(created_at)), 0)::float8 as age from ${qualifiedName(source.table)} where sent_at is null`;
    return { module: source.module, read: cachedRead(maxAgeMs, async () => (await sqlOf(source.database.db).unsafe<{ unsent: number; age: number }[]>(statement))[0]!) };
  });
  const current = () => Promise.all(reads.map(async ({ module, read }) => ({ module, row: await read() })));
  new Gauge({
    name: "shop_outbox_unsent_events",
    help: "Events in the module's outbox not yet confirmed by RabbitMQ.",
    labelNames: ["module"] as const,
    registers: [registry],
    async collect() {
      for (const { module, row } of await current()) if (row) this.set({ module }, row.unsent);
    },
  });
  new Gauge({
    name: "shop_outbox_oldest_unsent_age_seconds",
    help: "Age of the oldest event in the module's outbox not yet confirmed by RabbitMQ (0 when none).",
    labelNames: ["module"] as const,
    registers: [registry],
    async collect() {
      for (const { module, row } of await current()) if (row) this.set({ module }, row.age);
    },
  });
}

/** Per module of this process, 1 while its queue has a live subscription here, else 0. */
export function consumerGauge(registry: Registry, consumers: ReadonlyArray<{ module: string; consuming: boolean }>): void {
  new Gauge({
    name: "shop_consumer_up",
    help: "1 while the module's consumer is subscribed to its queue in this process, 0 while it is not (RabbitMQ away, subscription recovering).",
    labelNames: ["module"] as const,
    registers: [registry],
    collect() {
      for (const consumer of consumers) this.set({ module: consumer.module }, consumer.consuming ? 1 : 0);
    },
  });
}

/** Messages waiting in a module's queue and in its dead-letter queue. */
export interface QueueDepth {
  module: string;
  ready: number;
  deadLettered: number;
}

/**
 * Queue and dead-letter queue depths as RabbitMQ reports them, read with `read` at most every `maxAgeMs` (a passive
 * declare per queue; never one broker call per scrape). While RabbitMQ is away the last values stay.
 */
export function queueGauges(registry: Registry, read: () => Promise<QueueDepth[]>, maxAgeMs = 5_000): void {
  const depths = cachedRead(maxAgeMs, read);
  new Gauge({
    name: "shop_queue_messages",
    help: "Messages ready in the module's RabbitMQ queue, not yet delivered to a consumer (read at most every 5 s).",
    labelNames: ["module"] as const,
    registers: [registry],
    async collect() {
      for (const depth of (await depths()) ?? []) this.set({ module: depth.module }, depth.ready);
    },
  });
  new Gauge({
    name: "shop_dead_letter_messages",
    help: "Messages parked in the module's dead-letter queue, waiting for an operator (read at most every 5 s).",
    labelNames: ["module"] as const,
    registers: [registry],
    async collect() {
      for (const depth of (await depths()) ?? []) this.set({ module: depth.module }, depth.deadLettered);
    },
  });
}
