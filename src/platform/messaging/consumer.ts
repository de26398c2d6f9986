import type { AMQPMessage, AMQPProperties } from "@cloudamqp/amqp-client";
import type { Span } from "@opentelemetry/api";
import type { DatabaseHandle } from "../db.ts";
import { isTransient } from "../failures.ts";
import { applyEvents, type Delivery } from "./apply-event.ts";
import { withLogContext } from "../log-context.ts";
import type { Logger } from "../logger.ts";
import type { ConsumerMetrics } from "../metrics/messaging-metrics.ts";
import { TRACEPARENT_HEADER, type Broker } from "./broker.ts";
import { checkData, parseEnvelope, type Envelope } from "./envelope.ts";
import type { EventHandler } from "./handler.ts";
import { messageAttributes } from "./message-spans.ts";
import { endSpan, SpanKind, startSpan, traceparentOf, tracingEnabled } from "../tracing/spans.ts";
import type { Outbox } from "./outbox.ts";
import { messageLogContext } from "./message-log-context.ts";
import type { InboxTable } from "./tables.ts";

export const RETRY_COUNT_HEADER = "x-retry-count";
export const DEAD_LETTER_REASON_HEADER = "x-dead-letter-reason";

/** A valid delivery of a batch, with its span while tracing is on (and why it failed, if it did). */
type Received = Delivery & { message: AMQPMessage; span?: Span; error?: unknown };

// Clocks of the instance that wrote the event and of the one applying it may differ; this much is allowed for.
const CLOCK_MARGIN_MS = 3_600_000;

export interface ConsumerOptions {
  module: string;
  database: DatabaseHandle;
  inbox: InboxTable;
  outbox: Outbox;
  handlers: EventHandler[];
  broker: Broker;
  retryDelaysMs: number[];
  logger: Logger;
  /** Counts deliveries handled, skipped as duplicates, retried and parked, and times batches. */
  metrics?: ConsumerMetrics;
  /** Unacknowledged deliveries the broker may push ahead (default 100). */
  prefetch?: number;
  /** Deliveries applied in one transaction at most (default 25). */
  batchSize?: number;
  /**
   * How long the inbox keeps a message id (INBOX_RETENTION). An event older than that, less an hour for clock
   * skew, is parked instead of applied: had it been applied before, its inbox record may be gone already.
   */
  maxMessageAgeMs?: number;
}

/**
 * A module's consumer: validate → inbox + handler in one transaction → ack.
 * Deliveries are applied in batches by one worker, in delivery order: whatever arrived while the previous batch
 * ran goes into one transaction and is acknowledged with one multiple-ack, so under load a module pays one
 * commit and one ack for many messages, and at rest a message is handled the moment it arrives.
 * Invalid messages go straight to the DLQ with the reason; when a batch fails, its messages are applied one
 * by one, so only the failing one is retried through the delay queues (and parked in the DLQ after the last);
 * an unreachable database is not the message's fault, so it is retried without using up an attempt.
 */
export class MessageConsumer {
  private readonly waiting: AMQPMessage[] = [];
  private running: Promise<void> | undefined;
  private readonly names;
  private readonly batchSize: number;

  constructor(private readonly options: ConsumerOptions) {
    this.names = options.broker.names;
    this.batchSize = options.batchSize ?? 25;
  }

  get module(): string {
    return this.options.module;
  }

  /** The module's queue, bindings and retry queues, and its subscription: call before the broker starts. */
  async start(): Promise<void> {
    const { broker, module, handlers, retryDelaysMs, prefetch } = this.options;
    const routingKeys = [...new Set(handlers.map((h) => h.event.name))];
    broker.addTopology({ module, routingKeys, retryDelaysMs });
    broker.consume(this.names.queue(module), prefetch ?? 100, (message) => this.receive(message));
  }

  /** Whether the module's queue is subscribed right now (false while RabbitMQ is away or the subscription recovers). */
  get consuming(): boolean {
    return this.options.broker.isConsuming(this.names.queue(this.options.module));
  }

  /** Takes no further delivery, then lets the handlers in flight finish and settle their messages. */
  async stop(): Promise<void> {
    await this.options.broker.stopConsuming(this.names.queue(this.options.module));
    await this.idle();
  }

  /** Resolves when every message received so far has been settled. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private receive(message: AMQPMessage): Promise<void> {
    this.waiting.push(message);
    this.pump();
    return Promise.resolve();
  }

  private pump(): void {
    if (this.running || this.waiting.length === 0) return;
    const batch = this.waiting.splice(0, this.batchSize);
    // One message (the common case at rest): every line logged while it is handled carries its ids. In a batch,
    // each per-message line names its message itself (and `on` handlers run each delivery in its context).
    const work = () => this.processBatch(batch);
    this.running = (batch.length === 1 ? withLogContext(this.contextOf(batch[0]!), work) : work())
      .catch((error) => {
        this.options.logger.error({ err: error }, "message settlement failed; it will be redelivered");
      })
      .finally(() => {
        this.running = undefined;
        this.pump();
      });
  }

  private async processBatch(batch: AMQPMessage[]): Promise<void> {
    const unsettled = new Set(batch);
    try {
      await this.settleBatch(batch, unsettled);
    } finally {
      // A settlement that failed midway (the broker refused a forward) leaves the rest of the batch unsettled:
      // give it back now, so that a later multiple-ack cannot acknowledge it unapplied.
      for (const message of unsettled) await message.nack(true).catch(() => {});
    }
  }

  /** Applies, retries or parks every message of the batch, taking each out of `unsettled` once it is settled. */
  private async settleBatch(batch: AMQPMessage[], unsettled: Set<AMQPMessage>): Promise<void> {
    // Settled whether this succeeded or threw: a failed forward has nacked the message already (or its channel is gone).
    const settling = async (message: AMQPMessage, work: Promise<void>) => {
      try {
        await work;
      } finally {
        unsettled.delete(message);
      }
    };
    const valid: Received[] = [];
    for (const message of batch) {
      // Its channel is gone (connection lost): the broker redelivers it on the new one.
      if (message.channel.closed) unsettled.delete(message);
      else {
        const verdict = this.validate(message);
        if (typeof verdict === "string") await settling(message, this.park(message, verdict));
        else valid.push({ message, ...verdict });
      }
    }
    if (valid.length === 0) return;
    if (tracingEnabled()) for (const delivery of valid) this.startSpan(delivery, valid.length);
    try {
      await this.applyBatch(valid, settling, unsettled);
    } finally {
      for (const { span, error } of valid) endSpan(span, error);
    }
  }

  /**
   * One span per delivery, not one for the batch: each is the child of its own message's publish span (the AMQP
   * `traceparent` header, else the envelope's), so every order's trace goes on through this module. The deliveries of
   * a batch share one transaction, so their spans cover the same time; `messaging.batch.message_count` says how many.
   */
  private startSpan(delivery: Received, batchSize: number): void {
    const { envelope, message } = delivery;
    const header = message.properties.headers?.[TRACEPARENT_HEADER];
    const parent = typeof header === "string" ? header : envelope.traceparent;
    const attributes = { ...messageAttributes(this.options.module, envelope), "messaging.batch.message_count": batchSize };
    delivery.span = startSpan(`process ${envelope.name}`, { kind: SpanKind.CONSUMER, parent, attributes });
    delivery.traceparent = traceparentOf(delivery.span);
  }

  private async applyBatch(valid: Received[], settling: (message: AMQPMessage, work: Promise<void>) => Promise<void>, unsettled: Set<AMQPMessage>): Promise<void> {
    let applied: boolean[];
    const started = performance.now();
    try {
      applied = await applyEvents(this.options, valid);
    } catch (error) {
      // A database that is away fails every message alike: no point trying them one by one now.
      if (valid.length === 1 || isTransient(error)) {
        for (const delivery of valid) {
          delivery.error = error;
          await settling(delivery.message, this.retry(delivery.message, delivery.envelope, error));
        }
        return;
      }
      for (const delivery of valid) await settling(delivery.message, this.processAlone(delivery));
      return;
    }
    const { logger } = this.options;
    this.count(applied, performance.now() - started);
    if (logger.isLevelEnabled("debug")) {
      for (const [i, { envelope }] of valid.entries()) {
        logger.debug({ ...this.contextOf(valid[i]!.message, envelope), duplicate: !applied[i] }, "event handled");
      }
    }
    // Outside the try: the effects are committed, so a failed ack (connection lost) is no handler failure to
    // retry — the broker redelivers the messages and the inbox turns them into no-ops.
    await ackAll(valid.map((d) => d.message));
    for (const { message } of valid) unsettled.delete(message);
  }

  private async processAlone(delivery: Received): Promise<void> {
    const { message, envelope } = delivery;
    const started = performance.now();
    let applied: boolean[];
    try {
      applied = await applyEvents(this.options, [delivery]);
    } catch (error) {
      delivery.error = error;
      return this.retry(message, envelope, error);
    }
    this.count(applied, performance.now() - started);
    await message.ack();
  }

  /** A batch applied: how many were new, how many the inbox had, how long it took. */
  private count(applied: readonly boolean[], elapsedMs: number): void {
    const metrics = this.options.metrics;
    if (!metrics) return;
    const fresh = applied.filter(Boolean).length;
    metrics.handled(fresh);
    metrics.duplicates(applied.length - fresh);
    metrics.batch(elapsedMs / 1000);
  }

  /** The handler for a valid message, or why the message can never be handled. */
  private validate(message: AMQPMessage): Delivery | string {
    const { module, handlers } = this.options;
    const parsed = parseEnvelope(message.bodyString());
    if (!parsed.ok) return parsed.reason;
    const envelope = parsed.envelope;
    const tooOld = this.tooOldToDeduplicate(envelope);
    if (tooOld) return tooOld;
    const forName = handlers.filter((h) => h.event.name === envelope.name);
    if (forName.length === 0) return `no ${module} handler for event ${envelope.name}`;
    const handler = forName.find((h) => h.event.version === envelope.version);
    if (!handler) {
      const known = forName.map((h) => h.event.version).join(", ");
      return `unknown version ${envelope.version} of ${envelope.name} (handled: ${known})`;
    }
    return checkData(handler.event, envelope.data) ?? { handler, envelope };
  }

  /** Why an event is too old to be applied safely, if it is. */
  private tooOldToDeduplicate(envelope: Envelope): string | undefined {
    const { maxMessageAgeMs } = this.options;
    const occurredAt = Date.parse(envelope.occurredAt);
    if (maxMessageAgeMs === undefined || Number.isNaN(occurredAt)) return undefined;
    const ageMs = Date.now() - occurredAt;
    if (ageMs <= maxMessageAgeMs - CLOCK_MARGIN_MS) return undefined;
    const hours = (ms: number) => `${Math.round(ms / 3_600_000)} h`;
    return (
      `event occurred ${hours(ageMs)} ago (${envelope.occurredAt}), beyond the inbox retention (${hours(maxMessageAgeMs)}) ` +
      `less ${hours(CLOCK_MARGIN_MS)}: had it been applied before, its record may be gone and it would apply twice; ` +
      `it is not applied (README: Retention)`
    );
  }

  private async retry(message: AMQPMessage, envelope: Envelope, error: unknown): Promise<void> {
    const { retryDelaysMs, module, logger } = this.options;
    const attempt = Number(message.properties.headers?.[RETRY_COUNT_HEADER] ?? 0) || 0;
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const transient = isTransient(error);
    if (!transient && attempt >= retryDelaysMs.length) {
      logger.error({ ...this.contextOf(message, envelope), attempts: attempt + 1, err: error }, "handler kept failing; parked in DLQ");
      return this.park(message, `handler failed after ${attempt + 1} attempts: ${reason}`);
    }
    // Transient (database unreachable, a lost race, a stale statement): wait the shortest delay and try again without spending an attempt.
    const nextAttempt = transient ? attempt : attempt + 1;
    const delay = transient ? Math.min(...retryDelaysMs) : retryDelaysMs[attempt]!;
    logger.warn({ ...this.contextOf(message, envelope), attempt: attempt + 1, delayMs: delay, err: reason }, "handler failed; retrying later");
    await this.forward(message, "", this.names.retry(module, delay), {
      [RETRY_COUNT_HEADER]: nextAttempt,
      "x-last-error": reason.slice(0, 1000),
    });
    this.options.metrics?.retried();
  }

  private async park(message: AMQPMessage, reason: string): Promise<void> {
    const { module, logger } = this.options;
    logger.warn({ ...this.contextOf(message), reason }, "message parked in DLQ");
    await this.forward(message, "", this.names.dlq(module), {
      [DEAD_LETTER_REASON_HEADER]: reason.slice(0, 2000),
      "x-original-routing-key": message.routingKey,
      "x-original-exchange": message.exchange,
      "x-failed-at": new Date().toISOString(),
    });
    this.options.metrics?.parked();
  }

  /** The ids a log line about this message carries (from the envelope when it is valid, else its AMQP properties). */
  private contextOf(message: AMQPMessage, envelope?: Envelope) {
    if (envelope) return messageLogContext(message, envelope);
    const parsed = parseEnvelope(message.bodyString());
    return messageLogContext(message, parsed.ok ? parsed.envelope : undefined);
  }

  /** Republishes a copy (confirmed) before acking the original; if that fails the original is redelivered. */
  private async forward(message: AMQPMessage, exchange: string, routingKey: string, headers: Record<string, string | number>): Promise<void> {
    const properties: AMQPProperties = { ...message.properties, headers: { ...message.properties.headers, ...headers } };
    try {
      // Mandatory: a retry queue or DLQ that was deleted must fail the forward, not swallow the message.
      await this.options.broker.publish(exchange, routingKey, message.body, properties, { mandatory: true });
    } catch (error) {
      await message.nack(true).catch(() => {});
      throw error;
    }
    await message.ack();
  }
}

/**
 * Acknowledges messages that were applied, with one multiple-ack per channel. The worker settles every earlier
 * delivery (acked, parked or sent to retry) before it acks a batch, and later deliveries have higher tags, so
 * acking up to the batch's highest tag acknowledges exactly these.
 */
async function ackAll(messages: AMQPMessage[]): Promise<void> {
  const highest = new Map<AMQPMessage["channel"], number>();
  for (const message of messages) highest.set(message.channel, Math.max(highest.get(message.channel) ?? 0, message.deliveryTag));
  await Promise.all([...highest].map(([channel, tag]) => channel.basicAck(tag, true)));
}
