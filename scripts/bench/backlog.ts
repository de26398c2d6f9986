/**
 * Backlog: work accepted and not done yet. Pending orders and unsent outbox rows (read from the shop's
 * database), ready messages in each module's queue (AMQP passive declare), and POSTs not answered yet.
 */
import { AMQPClient, type AMQPChannel } from "@cloudamqp/amqp-client";
import { MODULE_NAMES } from "../../src/config.ts";
import { TEST_AMQP_URL } from "../../src/test-support/broker.ts";
import { run } from "./context.ts";
import type { ShopDb } from "./postgres-stats.ts";

export interface Backlog {
  pendingOrders: number;
  /** Unsent outbox rows per module. */
  outbox: Record<string, number>;
  /** Ready messages per module queue; NaN when the queue could not be read. */
  queues: Record<string, number>;
  /** POST /orders sent and not answered yet. */
  httpInFlight: number;
}

export class BacklogProbe {
  private client: AMQPClient | undefined;
  private channel: AMQPChannel | undefined;

  constructor(
    private readonly db: ShopDb,
    private readonly prefix: string,
  ) {}

  private async openChannel(): Promise<AMQPChannel> {
    if (!this.client) {
      const client = new AMQPClient(TEST_AMQP_URL, undefined, null);
      await client.connect();
      this.client = client;
      run.closers.push(() => client.close().catch(() => {}));
    }
    if (!this.channel || this.channel.closed) this.channel = await this.client.channel();
    return this.channel;
  }

  private async queueDepth(module: string): Promise<number> {
    try {
      const ch = await this.openChannel();
      return (await ch.queueDeclare(`${this.prefix}${module}`, { passive: true })).messageCount;
    } catch {
      return Number.NaN; // a passive declare of a missing queue closes the channel: reopened next time
    }
  }

  async sample(httpInFlight = 0): Promise<Backlog> {
    const outboxes = MODULE_NAMES.map((m) => `(select count(*) from ${m}.outbox where sent_at is null)::int as ${m}`).join(", ");
    const [row] = await this.db.query<Record<string, number>>(
      `select (select count(*) from orders.orders where status = 'pending')::int as pending, ${outboxes}`,
    );
    const depths = await Promise.all(MODULE_NAMES.map((m) => this.queueDepth(m)));
    return {
      pendingOrders: row?.pending ?? Number.NaN,
      outbox: Object.fromEntries(MODULE_NAMES.map((m) => [m, row?.[m] ?? Number.NaN])),
      queues: Object.fromEntries(MODULE_NAMES.map((m, i) => [m, depths[i]!])),
      httpInFlight,
    };
  }
}

/** Every measure of a backlog by name: "pending", "http", "outbox:orders", "queue:inventory"… */
export function measures(b: Backlog): Record<string, number> {
  const out: Record<string, number> = { pending: b.pendingOrders, http: b.httpInFlight };
  for (const [m, n] of Object.entries(b.outbox)) out[`outbox:${m}`] = n;
  for (const [m, n] of Object.entries(b.queues)) out[`queue:${m}`] = n;
  return out;
}

export const isDrained = (b: Backlog) => Object.values(measures(b)).every((n) => n === 0 || Number.isNaN(n));

/** Compact, nonzero parts only: "pending 12 · http 3 · outbox 11/13/0 · queue 0/4/0" (modules in MODULE_NAMES order) or "0". */
export function backlogText(b: Backlog): string {
  const triple = (r: Record<string, number>) => (Object.values(r).some((n) => n !== 0) ? MODULE_NAMES.map((m) => (Number.isNaN(r[m]!) ? "?" : String(r[m]))).join("/") : "");
  const parts = [
    b.pendingOrders ? `pending ${b.pendingOrders}` : "",
    b.httpInFlight ? `http ${b.httpInFlight}` : "",
    triple(b.outbox) && `outbox ${triple(b.outbox)}`,
    triple(b.queues) && `queue ${triple(b.queues)}`,
  ].filter(Boolean);
  return parts.length === 0 ? "0" : parts.join(" · ");
}

/** The growth threshold of a step at `rate` orders/s: `seconds` of arrivals, at least 10. */
export const growthThreshold = (rate: number, seconds: number) => Math.max(10, Math.round(rate * seconds));

export const GROWTH_RULE = (seconds: number) =>
  `backlog grows = any of pending orders, unanswered POSTs, unsent outbox rows (per module) or queue depth (per module) ` +
  `rose between the step's start and the end of its sending window by more than max(10, ${seconds} s × rate)`;

/** Which measures rose by more than `threshold` from `start` to `end` ("" when none). */
export function grown(start: Backlog, end: Backlog, threshold: number): string {
  const s = measures(start);
  return Object.entries(measures(end))
    .filter(([k, n]) => n - (s[k] ?? 0) > threshold)
    .map(([k, n]) => `${k} +${n - (s[k] ?? 0)}`)
    .join(", ");
}
