import type { DatabaseHandle } from "../db.ts";
import type { Logger } from "../logger.ts";
import type { MessagingMetrics } from "../metrics/messaging-metrics.ts";
import type { ShopModule } from "../module.ts";
import type { Broker } from "./broker.ts";
import { MessageConsumer } from "./consumer.ts";
import { createOutbox } from "./outbox.ts";
import { OutboxRelay } from "./relay.ts";

export interface ModuleMessagingOptions {
  /** The module's own database: requests' pool (the consumer's transactions) and the background pool (the relay). */
  database: DatabaseHandle;
  background: DatabaseHandle;
  broker: Broker;
  retryDelaysMs: number[];
  /** INBOX_RETENTION: older events are parked rather than applied. */
  maxMessageAgeMs: number;
  outboxPollMs: number;
  logger: Logger;
  /** Where the relay and the consumer count what they do. */
  metrics?: MessagingMetrics;
}

/**
 * A module's messaging, made from what it declares: the relay of its outbox table, and — when it handles events —
 * its consumer, which records applied messages in its inbox table and writes what the handlers emit to its outbox.
 * Neither runs before `start()`.
 */
export function moduleMessaging(module: ShopModule, options: ModuleMessagingOptions): { relay: OutboxRelay; consumer?: MessageConsumer } {
  const { database, background, broker, logger } = options;
  const relay = new OutboxRelay({
    module: module.name,
    database: background,
    table: module.outboxTable,
    publish: (envelope) => broker.publishEvent(envelope),
    canPublish: () => broker.connected,
    pollMs: options.outboxPollMs,
    logger,
    metrics: options.metrics?.relay(module.name),
  });
  broker.onConnect(() => relay.wake());
  if (module.handlers.length === 0) return { relay };
  const consumer = new MessageConsumer({
    module: module.name,
    database,
    inbox: module.inboxTable,
    outbox: createOutbox(module.outboxTable, module.name),
    handlers: module.handlers,
    broker,
    retryDelaysMs: options.retryDelaysMs,
    maxMessageAgeMs: options.maxMessageAgeMs,
    logger,
    metrics: options.metrics?.consumer(module.name),
  });
  return { relay, consumer };
}
