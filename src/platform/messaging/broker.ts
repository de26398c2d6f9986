import type { AMQPChannel, AMQPConsumer, AMQPMessage, AMQPProperties } from "@cloudamqp/amqp-client";
import type { Logger } from "../logger.ts";
import { BrokerConnection } from "./connection.ts";
import type { Envelope } from "./envelope.ts";
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
}

/**
 * The process's door to RabbitMQ: declares the topology and re-subscribes consumers on every
 * (re)connect, and publishes with publisher confirms. Publishing while disconnected rejects at once:
 * callers (the outbox relay) keep the event and try again later.
 */
export class Broker {
  readonly names: TopologyNames;
  readonly connection: BrokerConnection;
  private readonly topologies: ConsumerTopology[] = [];
  private readonly consumers: Consumer[] = [];
  private confirmChannel: AMQPChannel | undefined;
  private readonly connectListeners: Array<() => void> = [];
  private active: AMQPConsumer[] = [];

  constructor(private readonly options: BrokerOptions) {
    this.names = topologyNames(options.prefix);
    this.connection = new BrokerConnection(options.url, options.logger, options.connectionName);
    this.connection.onConnected(async (client) => {
      const ch = await client.channel();
      await declareTopology(ch, this.names, this.topologies);
      await ch.close().catch(() => {});
      const confirm = await client.channel();
      await confirm.confirmSelect();
      this.confirmChannel = confirm;
      for (const consumer of this.consumers) {
        const ch = await client.channel();
        await ch.basicQos(consumer.prefetch);
        // The callback never throws: the consumer settles every message itself (ack, retry or DLQ).
        this.active.push(await ch.basicConsume(consumer.queue, { noAck: false }, (message) => consumer.onMessage(message)));
      }
    });
    this.connection.onDisconnected(() => {
      this.confirmChannel = undefined;
      this.active = [];
    });
  }

  /** Registers a module's queue, bindings and retry queues; call before `start()`. */
  addTopology(topology: ConsumerTopology): void {
    this.topologies.push(topology);
  }

  /** Registers a consumer on a queue; (re)subscribed on every connect. Call before `start()`. */
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

  /** Publishes an event to the events exchange; resolves once the broker confirmed it. */
  async publishEvent(envelope: Envelope): Promise<void> {
    await this.publish(this.names.events, envelope.name, JSON.stringify(envelope), envelopeProperties(envelope));
  }

  /** Publishes raw bytes to an exchange ("" = straight to the queue named by routingKey), with confirm. */
  async publish(exchange: string, routingKey: string, body: string | Uint8Array | null, properties: AMQPProperties): Promise<void> {
    const ch = this.confirmChannel;
    if (!ch || ch.closed || !this.connection.connected) throw new Error(`RabbitMQ is not connected (${this.connection.address})`);
    const internals = ch as unknown as ConfirmInternals;
    const before = internals.confirmId;
    const published = ch.basicPublish(exchange, routingKey, body, { deliveryMode: 2, ...properties });
    // The confirm id this publish registered (synchronously, before its first await), if it got that far.
    const tag = before !== undefined && internals.confirmId === before + 1 ? before : undefined;
    try {
      await published;
    } catch (error) {
      dropOrphanedConfirm(ch, tag);
      throw error;
    }
  }

  /** A fresh channel for one-off operations (inspecting a DLQ, tests). The caller closes it. */
  channel(): Promise<AMQPChannel> {
    return this.connection.channel();
  }

  /** Stops taking new deliveries (in-flight handlers go on and can still ack). */
  async stopConsuming(): Promise<void> {
    const consumers = this.active;
    this.active = [];
    this.consumers.length = 0;
    await Promise.all(consumers.map((c) => c.cancel().catch(() => {})));
  }

  async stop(): Promise<void> {
    await this.connection.stop();
  }
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

export function envelopeProperties(envelope: Envelope): AMQPProperties {
  return {
    messageId: envelope.id,
    type: envelope.name,
    contentType: "application/json",
    correlationId: envelope.correlationId,
    timestamp: new Date(envelope.occurredAt),
    appId: envelope.source,
    headers: { "correlation-id": envelope.correlationId, version: envelope.version },
  };
}
