import type { AMQPMessage, AMQPProperties } from "@cloudamqp/amqp-client";
import type { DatabaseHandle } from "../db.ts";
import { isTransientDatabaseError } from "../db.ts";
import { applyEvent } from "./apply-event.ts";
import type { Logger } from "../logger.ts";
import type { Broker } from "./broker.ts";
import { checkData, parseEnvelope, type Envelope } from "./envelope.ts";
import type { EventHandler } from "./handler.ts";
import type { Outbox } from "./outbox.ts";
import type { InboxTable } from "./tables.ts";

export const RETRY_COUNT_HEADER = "x-retry-count";
export const DEAD_LETTER_REASON_HEADER = "x-dead-letter-reason";

export interface ConsumerOptions {
  module: string;
  database: DatabaseHandle;
  inbox: InboxTable;
  outbox: Outbox;
  handlers: EventHandler[];
  broker: Broker;
  retryDelaysMs: number[];
  logger: Logger;
  prefetch?: number;
}

/**
 * A module's consumer: validate → inbox + handler in one transaction → ack.
 * Invalid messages go straight to the DLQ with the reason; a failing handler is retried through the
 * delay queues and parked in the DLQ after the last one; an unreachable database is not the message's
 * fault, so it is retried without using up an attempt.
 */
export class MessageConsumer {
  private inFlight = new Set<Promise<void>>();
  private readonly names;

  constructor(private readonly options: ConsumerOptions) {
    this.names = options.broker.names;
    const routingKeys = [...new Set(options.handlers.map((h) => h.event.name))];
    options.broker.addTopology({ module: options.module, routingKeys, retryDelaysMs: options.retryDelaysMs });
    options.broker.consume(this.names.queue(options.module), options.prefetch ?? 20, (message) => this.track(message));
  }

  /** Resolves when every message being handled now has been settled. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private track(message: AMQPMessage): Promise<void> {
    const work = this.process(message).catch((error) => {
      this.options.logger.error({ err: error, module: this.options.module }, "message settlement failed; it will be redelivered");
    });
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
    return work;
  }

  private async process(message: AMQPMessage): Promise<void> {
    const { module, handlers, logger } = this.options;
    const parsed = parseEnvelope(message.bodyString());
    if (!parsed.ok) return this.park(message, parsed.reason);
    const envelope = parsed.envelope;
    const forName = handlers.filter((h) => h.event.name === envelope.name);
    if (forName.length === 0) return this.park(message, `no ${module} handler for event ${envelope.name}`);
    const handler = forName.find((h) => h.event.version === envelope.version);
    if (!handler) {
      const known = forName.map((h) => h.event.version).join(", ");
      return this.park(message, `unknown version ${envelope.version} of ${envelope.name} (handled: ${known})`);
    }
    const invalid = checkData(handler.event, envelope.data);
    if (invalid) return this.park(message, invalid);

    let applied: boolean;
    try {
      applied = await applyEvent(this.options, handler, envelope);
    } catch (error) {
      return this.retry(message, envelope, error);
    }
    logger.debug({ module, event: envelope.name, messageId: envelope.id, duplicate: !applied }, "event handled");
    // Outside the try: the effect is committed, so a failed ack (connection lost) is no handler failure to
    // retry — the broker redelivers the message and the inbox turns it into a no-op.
    await message.ack();
  }

  private async retry(message: AMQPMessage, envelope: Envelope, error: unknown): Promise<void> {
    const { retryDelaysMs, module, logger } = this.options;
    const attempt = Number(message.properties.headers?.[RETRY_COUNT_HEADER] ?? 0) || 0;
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const transient = isTransientDatabaseError(error);
    if (!transient && attempt >= retryDelaysMs.length) {
      logger.error({ module, event: envelope.name, messageId: envelope.id, attempts: attempt + 1, err: error }, "handler kept failing; parked in DLQ");
      return this.park(message, `handler failed after ${attempt + 1} attempts: ${reason}`);
    }
    // Transient (database unreachable): wait the shortest delay and try again without spending an attempt.
    const nextAttempt = transient ? attempt : attempt + 1;
    const delay = transient ? Math.min(...retryDelaysMs) : retryDelaysMs[attempt]!;
    logger.warn({ module, event: envelope.name, messageId: envelope.id, attempt: attempt + 1, delayMs: delay, err: reason }, "handler failed; retrying later");
    await this.forward(message, "", this.names.retry(module, delay), {
      [RETRY_COUNT_HEADER]: nextAttempt,
      "x-last-error": reason.slice(0, 1000),
    });
  }

  private async park(message: AMQPMessage, reason: string): Promise<void> {
    const { module, logger } = this.options;
    logger.warn({ module, reason, messageId: message.properties.messageId }, "message parked in DLQ");
    await this.forward(message, "", this.names.dlq(module), {
      [DEAD_LETTER_REASON_HEADER]: reason.slice(0, 2000),
      "x-original-routing-key": message.routingKey,
      "x-original-exchange": message.exchange,
      "x-failed-at": new Date().toISOString(),
    });
  }

  /** Republishes a copy (confirmed) before acking the original; if that fails the original is redelivered. */
  private async forward(message: AMQPMessage, exchange: string, routingKey: string, headers: Record<string, string | number>): Promise<void> {
    const properties: AMQPProperties = { ...message.properties, headers: { ...message.properties.headers, ...headers } };
    try {
      await this.options.broker.publish(exchange, routingKey, message.body, properties);
    } catch (error) {
      await message.nack(true).catch(() => {});
      throw error;
    }
    await message.ack();
  }
}
