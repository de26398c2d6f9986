import type { AMQPChannel } from "@cloudamqp/amqp-client";

/** Every exchange and queue name, namespaced by AMQP_PREFIX so deployments and tests never collide. */
export function topologyNames(prefix: string) {
  return {
    events: `${prefix}events`,
    unrouted: `${prefix}unrouted`,
    queue: (module: string) => `${prefix}${module}`,
    dlq: (module: string) => `${prefix}${module}.dlq`,
    retry: (module: string, delayMs: number) => `${prefix}${module}.retry.${delayMs}ms`,
  };
}
export type TopologyNames = ReturnType<typeof topologyNames>;

export interface ConsumerTopology {
  module: string;
  /** Event names (routing keys) the module's queue is bound to. */
  routingKeys: string[];
  retryDelaysMs: number[];
}

const UNROUTED_TTL_MS = 7 * 24 * 3600 * 1000;
/** Deliveries of one message (crash, lost connection) before the broker itself parks it in the DLQ. */
export const DELIVERY_LIMIT = 20;

/**
 * Declares (idempotently) the whole topology; runs on every (re)connect because a broker that was
 * reset has forgotten it. Changing a queue's arguments later needs a new queue name (406 otherwise),
 * which is why a retry queue's name carries its delay.
 */
export async function declareTopology(ch: AMQPChannel, names: TopologyNames, consumers: ConsumerTopology[]): Promise<void> {
  await ch.exchangeDeclare(names.unrouted, "fanout", { durable: true });
  await ch.queueDeclare(names.unrouted, { durable: true }, { "x-message-ttl": UNROUTED_TTL_MS });
  await ch.queueBind(names.unrouted, names.unrouted, "");
  await ch.exchangeDeclare(names.events, "topic", { durable: true }, { "alternate-exchange": names.unrouted });

  for (const consumer of consumers) {
    const queue = names.queue(consumer.module);
    const dlq = names.dlq(consumer.module);
    await ch.queueDeclare(dlq, { durable: true }, { "x-queue-type": "quorum" });
    await ch.queueDeclare(
      queue,
      { durable: true },
      {
        "x-queue-type": "quorum",
        "x-delivery-limit": DELIVERY_LIMIT,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": dlq,
      },
    );
    for (const key of consumer.routingKeys) await ch.queueBind(queue, names.events, key);
    for (const delay of new Set(consumer.retryDelaysMs)) {
      // A parked retry goes back to this module's queue only (default exchange), never to the topic
      // exchange, where every other subscriber of the event would get it a second time.
      await ch.queueDeclare(
        names.retry(consumer.module, delay),
        { durable: true },
        { "x-message-ttl": delay, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": queue },
      );
    }
  }
}
