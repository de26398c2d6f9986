import type { AMQPChannel, AMQPClient, AMQPConsumer, AMQPMessage, AMQPProperties } from "@cloudamqp/amqp-client";
import { backoffDelay, sleep } from "../retry.ts";
import type { Logger } from "../logger.ts";
import { BrokerConnection } from "./connection.ts";
import type { Envelope } from "./envelope.ts";
import { currentTraceparent } from "../tracing/spans.ts";
import { declareTopology, topologyNames, type ConsumerTopology, type TopologyNames } from "./topology.ts";

export interface BrokerOptions {
  url: string;
  prefix: string;
  logger: Logger;
  connectionName?: string;
}

interface Consumer {
  queue: string;
  prefetch: number;
  onMessage: (message: AMQPMessage) => Promise<void>;
  /** The live subscription; undefined while the queue is not being consumed. */
  active?: AMQPConsumer;
}

/**
 * The process's door to RabbitMQ: declares the topology and re-subscribes consumers on every
 * (re)connect, and publishes with publisher confirms. Publishing while disconnected rejects at once:
 * callers (the outbox relay) keep the event and try again later.
 *
 * A failure below the connection is recovered at its own level while the connection stays up: a consumer
 * the broker cancels (its queue was deleted, `consumer_timeout`, an operator) or whose channel the broker
 * closes is subscribed again after the topology is declared again; a confirm channel the broker closes (a
 * publish to an exchange that was deleted) is opened again. Both retry with backoff until they succeed or
 * the connection itself is lost, which the reconnect loop then handles.
 */
export class Broker {
  readonly names: TopologyNames;
  readonly connection: BrokerConnection;
  private readonly topologies: ConsumerTopology[] = [];
  private readonly consumers: Consumer[] = [];
  private confirmChannel: AMQPChannel | undefined;
  private readonly connectListeners: Array<() => void> = [];
  private readonly recovering = new Set<string>();
  /** Mandatory publishes the broker returned as unroutable, by exchange, routing key and message id. */
  private readonly returned = new Set<string>();
  private consuming = true;

  constructor(private readonly options: BrokerOptions) {
    this.names = topologyNames(options.prefix);
    this.connection = new BrokerConnection(options.url, options.logger, options.connectionName);
    this.connection.onConnected(async (client) => {
      await this.declare(client);
      await this.openConfirmChannel(client);
      for (const consumer of this.consumers) await this.subscribe(client, consumer);
    });
    this.connection.onDisconnected(() => {
      this.confirmChannel = undefined;
      for (const consumer of this.consumers) consumer.active = undefined;
    });
  }

  /** Registers a module's queue, bindings and retry queues; call before `start()`. */
  addTopology(topology: ConsumerTopology): void {
    this.topologies.push(topology);
  }

  /** Registers a consumer on a queue; (re)subscribed on every connect. Call before `start()`; `stopConsuming` ends it. */
  consume(queue: string, prefetch: number, onMessage: (message: AMQPMessage) => Promise<void>): void {
    this.consumers.push({ queue, prefetch, onMessage });
  }

  /** Called after every successful (re)connect, once topology and consumers are in place. */
  onConnect(listener: () => void): void {
    this.connectListeners.push(listener);
  }

  start(): void {
    this.connection.onConnected(async () => {
      for (const listener of this.connectListeners) queueMicrotask(listener);
    });
    this.connection.start();
  }

  get connected(): boolean {
    return this.connection.connected && !!this.confirmChannel && !this.confirmChannel.closed;
  }

  /** Whether `queue` has a live subscription of this process right now (false while it is being recovered). */
  isConsuming(queue: string): boolean {
    return this.connection.connected && this.consumers.some((c) => c.queue === queue && c.active !== undefined);
  }

  /**
   * Publishes an event to the events exchange; resolves once the broker confirmed it. Its `traceparent` header is the
   * span active here (the relay's publish span), else the envelope's own.
   */
  async publishEvent(envelope: Envelope): Promise<void> {
    const properties = envelopeProperties(envelope, currentTraceparent() ?? envelope.traceparent);
    await this.publish(this.names.events, envelope.name, JSON.stringify(envelope), properties);
  }

  /**
   * Publishes raw bytes to an exchange ("" = straight to the queue named by routingKey), with confirm.
   * `mandatory`: no queue took the message (a retry queue or DLQ that was deleted) → the topology is declared
   * again and the message published once more; if that is returned too, the publish fails. Without it the
   * broker would confirm a message it dropped.
   */
  async publish(
    exchange: string,
    routingKey: string,
    body: string | Uint8Array | null,
    properties: AMQPProperties,
    options: { mandatory?: boolean; declaredAgain?: boolean } = {},
  ): Promise<void> {
    const ch = this.confirmChannel;
    if (!ch || ch.closed || !this.connection.connected) throw new Error(`RabbitMQ is not connected (${this.connection.address})`);
    const internals = ch as unknown as ConfirmInternals;
    const before = internals.confirmId;
    const published = ch.basicPublish(exchange, routingKey, body, { deliveryMode: 2, ...properties }, options.mandatory ?? false);
    // The confirm id this publish registered (synchronously, before its first await), if it got that far.
    const tag = before !== undefined && internals.confirmId === before + 1 ? before : undefined;
    try {
      await published;
    } catch (error) {
      dropOrphanedConfirm(ch, tag);
      throw error;
    }
    // The broker sends basic.return before the confirm of the same publish, so it has been seen by now.
    if (options.mandatory && this.returned.delete(returnKey(exchange, routingKey, properties.messageId))) {
      const client = this.connection.current;
      if (options.declaredAgain || !client) throw new Error(`RabbitMQ had no queue for ${exchange || "(default exchange)"} → ${routingKey}`);
      this.options.logger.warn({ exchange, routingKey }, "RabbitMQ returned a message no queue took; declaring the topology again");
      await this.declare(client);
      await this.publish(exchange, routingKey, body, properties, { mandatory: true, declaredAgain: true });
    }
  }

  /**
   * Messages ready in each of `queues` (a passive declare each, on one channel of its own): a queue that does not
   * exist fails the whole read.
   */
  async messageCounts(queues: readonly string[]): Promise<number[]> {
    const ch = await this.connection.channel();
    try {
      const counts: number[] = [];
      for (const queue of queues) counts.push((await ch.queueDeclare(queue, { passive: true })).messageCount);
      return counts;
    } finally {
      if (!ch.closed) await ch.close().catch(() => {});
    }
  }

  /** A fresh channel for one-off operations (inspecting a DLQ, tests). The caller closes it. */
  channel(): Promise<AMQPChannel> {
    return this.connection.channel();
  }

  /**
   * Stops taking new deliveries from `queue`, or from every queue when none is named (in-flight handlers go on and
   * can still ack). A queue whose consumer stopped is not subscribed again on a reconnect.
   */
  async stopConsuming(queue?: string): Promise<void> {
    if (queue === undefined) this.consuming = false;
    const stopping = this.consumers.filter((c) => queue === undefined || c.queue === queue);
    const subscriptions = stopping.flatMap((c) => (c.active ? [c.active] : []));
    for (const consumer of stopping) {
      consumer.active = undefined;
      this.consumers.splice(this.consumers.indexOf(consumer), 1);
    }
    await Promise.all(subscriptions.map((s) => s.cancel().catch(() => {})));
  }

  async stop(): Promise<void> {
    this.consuming = false;
    await this.connection.stop();
  }

  private async declare(client: AMQPClient): Promise<void> {
    const ch = await client.channel();
    try {
      await declareTopology(ch, this.names, this.topologies);
    } finally {
      await ch.close().catch(() => {});
    }
  }

  private async openConfirmChannel(client: AMQPClient): Promise<void> {
    const confirm = await client.channel();
    await confirm.confirmSelect();
    confirm.onReturn = (message) => this.returned.add(returnKey(message.exchange, message.routingKey, message.properties.messageId));
    // Called by amqp-client only when the broker closed the channel (or the connection ended).
    confirm.onerror = (reason) => {
      if (this.confirmChannel === confirm) this.confirmChannel = undefined;
      this.recover(client, "confirm channel", reason, () => this.openConfirmChannel(client));
    };
    this.confirmChannel = confirm;
  }

  private async subscribe(client: AMQPClient, consumer: Consumer): Promise<void> {
    const ch = await client.channel();
    await ch.basicQos(consumer.prefetch);
    // The callback never throws: the consumer settles every message itself (ack, retry or DLQ).
    const subscription = await ch.basicConsume(consumer.queue, { noAck: false }, (message) => consumer.onMessage(message));
    consumer.active = subscription;
    // Resolves when this process cancels it; rejects when the broker cancels it or closes its channel.
    subscription.wait().catch((error: unknown) => {
      if (consumer.active === subscription) consumer.active = undefined;
      if (!this.consuming || !this.consumers.includes(consumer)) return;
      const reason = error instanceof Error ? error.message : String(error);
      this.recover(client, `consumer of ${consumer.queue}`, reason, async () => {
        if (this.consuming && this.consumers.includes(consumer)) await this.subscribe(client, consumer);
      });
    });
  }

  /**
   * Re-declares the topology and runs `reopen` until it succeeds, with backoff, on the same connection.
   * Gives up silently when that connection is lost (reconnecting sets everything up again) or on stop.
   */
  private recover(client: AMQPClient, what: string, reason: string, reopen: () => Promise<void>): void {
    if (!this.connection.isCurrent(client) || this.recovering.has(what)) return;
    this.recovering.add(what);
    const { logger } = this.options;
    void (async () => {
      try {
        for (let attempt = 0; ; attempt++) {
          await sleep(backoffDelay(attempt, 200, 5_000), this.connection.stopSignal);
          // A lost connection closes its channels too (and only then marks itself closed): not this path's job.
          if (!this.connection.isCurrent(client)) return;
          if (attempt === 0) {
            logger.warn({ broker: this.connection.address, reason }, `RabbitMQ closed the ${what} while connected; re-declaring and re-opening it`);
          }
          try {
            await this.declare(client);
            await reopen();
            logger.info({ broker: this.connection.address, attempts: attempt + 1 }, `RabbitMQ ${what} is back`);
            for (const listener of this.connectListeners) queueMicrotask(listener);
            return;
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            logger.warn({ broker: this.connection.address, err: message }, `re-opening the ${what} failed; trying again`);
          }
        }
      } finally {
        this.recovering.delete(what);
      }
    })();
  }
}

function returnKey(exchange: string, routingKey: string, messageId: string | undefined): string {
  return `${exchange}\u0000${routingKey}\u0000${messageId ?? ""}`;
}

/** What amqp-client 4.1.1 keeps, unexported, about a confirm channel's publishes awaiting their confirm. */
interface ConfirmInternals {
  confirmId?: number;
  unconfirmedPublishes?: Array<[number, unknown, unknown]>;
}

/**
 * amqp-client 4.1.1 `basicPublish` registers the publish's confirm before writing its frames and chains it
 * only when the write succeeds (`sendFrames.then(() => wait4Confirm)`). When the write fails — the broker
 * (or the network) already ended the socket — the publish rejects with the write error, and the confirm it
 * registered is left with no listener; the socket's close then rejects it, an unhandled rejection that ends
 * the Bun process (seen in src/faults/broker-outage.test.ts). A publish that rejected can no longer be waited
 * for, so its confirm is removed here before the close gets to it. `tag` is the confirm id that publish took
 * (none when it failed before registering one: then nothing is removed).
 */
function dropOrphanedConfirm(ch: AMQPChannel, tag: number | undefined): void {
  const pending = (ch as unknown as ConfirmInternals).unconfirmedPublishes;
  if (tag === undefined || !Array.isArray(pending)) return;
  const index = pending.findIndex(([pendingTag]) => pendingTag === tag);
  if (index >= 0) pending.splice(index, 1);
}

/** The AMQP properties of an event's message; `traceparent` (W3C trace context) goes into the headers when given. */
export function envelopeProperties(envelope: Envelope, traceparent: string | undefined = envelope.traceparent): AMQPProperties {
  const headers: Record<string, string | number> = { "correlation-id": envelope.correlationId, version: envelope.version };
  if (traceparent) headers[TRACEPARENT_HEADER] = traceparent;
  return {
    messageId: envelope.id,
    type: envelope.name,
    contentType: "application/json",
    correlationId: envelope.correlationId,
    timestamp: new Date(envelope.occurredAt),
    appId: envelope.source,
    headers,
  };
}

/** The AMQP header that carries the publisher's trace context to the consumer. */
export const TRACEPARENT_HEADER = "traceparent";
