import { qualifiedName, sqlOf, type DatabaseHandle } from "../db.ts";
import type { Logger } from "../logger.ts";
import type { RelayMetrics } from "../metrics/messaging-metrics.ts";
import { NotifiedLoop } from "../notified-loop.ts";
import { inSpan, SpanKind, tracingEnabled } from "../tracing/spans.ts";
import type { Envelope } from "./envelope.ts";
import { messageAttributes } from "./message-spans.ts";
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
  /** Counts published, confirmed and failed publishes. */
  metrics?: RelayMetrics;
  /** How long a claimed row is left to this relay before another may take it (a relay that died). */
  leaseMs?: number;
}

/**
 * Moves one module's outbox to RabbitMQ. Wakes on the outbox's NOTIFY (and a poll timer). A pass is two
 * statements and holds no transaction while it waits for the broker: it claims a batch of unsent rows with a
 * lease (`claimed_until`, taken with FOR UPDATE SKIP LOCKED so any number of instances can run it), publishes
 * them in order, and marks sent only the rows the broker confirmed. A row whose publish failed is released at
 * once for a later pass; a row whose relay died is taken again when its lease runs out (published twice at
 * worst, which the consumers' inboxes absorb).
 */
export class OutboxRelay {
  private readonly loop: NotifiedLoop;
  private readonly batchSize: number;
  private readonly statements: ReturnType<typeof relayStatements>;
  /** created_at of the newest row claimed so far (and its sort position), and when the last full pass ran. */
  private newest: string | undefined;
  private newestPosition: string | undefined;
  private lastFullPass = 0;
  private fullAgain = false;

  constructor(private readonly options: RelayOptions) {
    this.batchSize = options.batchSize ?? 100;
    this.statements = relayStatements(qualifiedName(options.table));
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
    const { database, publish, module } = this.options;
    const leaseS = (this.options.leaseMs ?? 10_000) / 1000;
    // Sent rows leave dead entries at the old end of the unsent index until VACUUM removes them; a claim that
    // starts there reads all of them (thousands of buffers per claim under load, seen in pg_stat_statements). So
    // most passes look only at rows written since shortly before the newest one claimed, and once per poll
    // interval a full pass picks up anything older (a slow transaction's commit, a dead relay's lease).
    // A full pass that found a full batch goes on as full passes: a backlog drains at full speed.
    const full = this.newest === undefined || this.fullAgain || performance.now() - this.lastFullPass >= this.options.pollMs;
    if (full) this.lastFullPass = performance.now();
    const rows = await sqlOf(database.db).unsafe<{ id: string; envelope: Envelope; position: string; created_at: string }[]>(this.statements.claim, [
      this.batchSize,
      leaseS,
      full ? "-infinity" : this.newest!,
    ]);
    this.fullAgain = full && rows.length === this.batchSize;
    if (rows.length === 0) return { claimed: 0, failed: 0 };
    // RETURNING keeps no order: publish in the order the events were written.
    rows.sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
    const newest = rows.at(-1)!;
    if (this.newestPosition === undefined || newest.position > this.newestPosition) {
      this.newestPosition = newest.position;
      this.newest = newest.created_at;
    }

    // All publishes go out on one confirm channel in order; wait for every confirm. Each is a span, the child of the
    // one that wrote its event (the envelope's traceparent), though it runs in this loop, later.
    const publishTraced = (envelope: Envelope) =>
      inSpan(`publish ${envelope.name}`, { kind: SpanKind.PRODUCER, parent: envelope.traceparent, attributes: messageAttributes(module, envelope) }, () =>
        publish(envelope),
      );
    const send = tracingEnabled() ? publishTraced : publish;
    const results = await Promise.allSettled(rows.map((row) => send(row.envelope)));
    const sent = rows.filter((_, i) => results[i]!.status === "fulfilled").map((r) => r.id);
    const failed = rows.filter((_, i) => results[i]!.status === "rejected").map((r) => r.id);
    this.options.metrics?.published(rows.length);
    this.options.metrics?.failed(failed.length);
    if (sent.length > 0) {
      await sqlOf(database.db).unsafe(this.statements.markSent, [sent]);
      this.options.metrics?.confirmed(sent.length);
    }
    const { logger } = this.options;
    if (logger.isLevelEnabled("debug")) {
      for (const [i, row] of rows.entries()) {
        if (results[i]!.status !== "fulfilled") continue;
        const { envelope } = row;
        logger.debug({ correlationId: envelope.correlationId, messageId: envelope.id, event: envelope.name }, "event published");
      }
    }
    if (failed.length > 0) {
      const rejection = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      const reason = String(rejection.reason?.message ?? rejection.reason ?? "publish failed");
      await sqlOf(database.db).unsafe(this.statements.release, [failed, reason.slice(0, 500)]);
    }
    return { claimed: rows.length, failed: failed.length };
  }
}

function relayStatements(table: string) {
  return {
    // The position sorts like (created_at, id) as text: microseconds since the epoch, zero-padded.
    claim:
      `update ${table} set claimed_until = clock_timestamp() + make_interval(secs => $2::float8) ` +
      `where id in (select id from ${table} where sent_at is null and created_at > $3::timestamptz - interval '10 seconds' ` +
      `and (claimed_until is null or claimed_until < clock_timestamp()) ` +
      `order by created_at, id limit $1::int for update skip locked) ` +
      `returning id, envelope, created_at, lpad((extract(epoch from created_at) * 1000000)::bigint::text, 20, '0') || id::text as position`,
    markSent: `update ${table} set sent_at = clock_timestamp(), claimed_until = null where id = any($1::uuid[])`,
    release: `update ${table} set attempts = attempts + 1, last_error = $2, claimed_until = null where id = any($1::uuid[])`,
  };
}
