import type { TSchema } from "@sinclair/typebox";
import { TRACEPARENT_HEADER } from "./broker.ts";
import { EnvelopeSchema } from "./envelope.ts";
import type { EventDefinition } from "./event.ts";
import { topologyNames } from "./topology.ts";

/** What the document needs of a module: its name and the events it publishes and consumes (a ModuleDefinition). */
export interface EventfulModule {
  name: string;
  publishes: readonly EventDefinition[];
  consumes: readonly EventDefinition[];
}

export interface AsyncApiOptions {
  /** Every module of the shop (src/app.ts MODULES), whether or not it runs in this process. */
  modules: readonly EventfulModule[];
  /** AMQP_PREFIX: the exchange and queue names are written with it, as this process declares them. */
  amqpPrefix: string;
  /** The shop's version (package.json). */
  version: string;
}

const AMQP_BINDING_VERSION = "0.3.0";

/**
 * The AsyncAPI 3.0.0 document of the shop's events: one channel per event (its routing key on the topic exchange), the
 * envelope it travels in as the message payload with the event's data nested, the AMQP headers that mirror the
 * envelope, a `send` operation for the module that publishes it and a `receive` operation for each module that
 * consumes it. Built from the module definitions, so an event added to a contract is documented with no other change.
 */
export function asyncApiDocument(options: AsyncApiOptions) {
  const names = topologyNames(options.amqpPrefix);
  const events = new Map<string, EventDefinition>();
  for (const module of options.modules) for (const event of [...module.publishes, ...module.consumes]) events.set(event.name, event);
  const publisherOf = (event: EventDefinition) => options.modules.find((m) => m.publishes.some((e) => e.name === event.name))?.name;

  const channels: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  for (const event of [...events.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const messageId = eventMessageId(event);
    messages[messageId] = eventMessage(event, publisherOf(event));
    channels[event.name] = {
      address: event.name,
      title: event.name,
      description: event.description,
      messages: { [messageId]: { $ref: `#/components/messages/${messageId}` } },
      bindings: {
        amqp: {
          is: "routingKey",
          exchange: { name: names.events, type: "topic", durable: true, autoDelete: false },
          bindingVersion: AMQP_BINDING_VERSION,
        },
      },
    };
    const channel = { $ref: `#/channels/${event.name}` };
    const message = [{ $ref: `#/channels/${event.name}/messages/${messageId}` }];
    const publisher = publisherOf(event);
    if (publisher) {
      operations[sendOperationId(publisher, event)] = {
        action: "send",
        title: `${publisher} publishes ${event.name}`,
        description:
          `${publisher} writes the event to its outbox in the transaction of the change; its relay publishes it to ` +
          `\`${names.events}\` with publisher confirms (at least once: a copy whose confirm was lost is published again, with the same id).`,
        channel,
        messages: message,
        bindings: { amqp: { deliveryMode: 2, mandatory: false, timestamp: true, bindingVersion: AMQP_BINDING_VERSION } },
      };
    }
    for (const consumer of options.modules.filter((m) => m.consumes.some((e) => e.name === event.name))) {
      operations[receiveOperationId(consumer.name, event)] = {
        action: "receive",
        title: `${consumer.name} consumes ${event.name}`,
        description:
          `From its quorum queue \`${names.queue(consumer.name)}\`, bound to \`${event.name}\` on \`${names.events}\`. ` +
          `Applied once per message id (inbox); a failed delivery is retried, then parked in \`${names.dlq(consumer.name)}\`.`,
        channel,
        messages: message,
        bindings: { amqp: { ack: true, bindingVersion: AMQP_BINDING_VERSION } },
      };
    }
  }

  return {
    asyncapi: "3.0.0",
    info: {
      title: "Shop events",
      version: options.version,
      description:
        `The integration events of the shop's modules, on RabbitMQ. Every event is published to the topic exchange ` +
        `\`${names.events}\` with its name as the routing key, as a persistent JSON message: the envelope, with the ` +
        `event's data in \`data\`. Delivery is at least once: deduplicate on the envelope's \`id\` (the AMQP message-id). ` +
        `An event no queue is bound to goes to the alternate exchange \`${names.unrouted}\` (kept 7 days). To consume an ` +
        `event, bind a queue of your own to \`${names.events}\` with the event's name. Exchange and queue names start with ` +
        `the deployment's AMQP_PREFIX (here \`${options.amqpPrefix}\`).`,
    },
    defaultContentType: "application/json",
    servers: {
      rabbitmq: {
        host: "{host}:{port}",
        protocol: "amqp",
        protocolVersion: "0.9.1",
        title: "RabbitMQ",
        description: "The broker of the deployment's AMQP_URL (amqps when it says so).",
        variables: {
          host: { default: "localhost", description: "The RabbitMQ host of AMQP_URL" },
          port: { default: "5672", description: "The RabbitMQ port of AMQP_URL (5671 for amqps)" },
        },
        security: [{ $ref: "#/components/securitySchemes/rabbitmqUser" }],
      },
    },
    channels,
    operations,
    components: {
      messages,
      securitySchemes: { rabbitmqUser: { type: "userPassword", description: "The user and password of AMQP_URL" } },
    },
  };
}

/** `orders.order-placed.v1`: the event and the version of its data schema, so a version 2 is another message. */
export function eventMessageId(event: EventDefinition): string {
  return `${event.name}.v${event.version}`;
}

/** `orders.sends.orders.order-placed` */
export function sendOperationId(module: string, event: EventDefinition): string {
  return `${module}.sends.${event.name}`;
}

/** `inventory.receives.orders.order-placed` */
export function receiveOperationId(module: string, event: EventDefinition): string {
  return `${module}.receives.${event.name}`;
}

function eventMessage(event: EventDefinition, publisher: string | undefined) {
  const envelope = jsonSchema(EnvelopeSchema);
  return {
    name: event.name,
    title: `${event.name} v${event.version}`,
    summary: event.description,
    contentType: "application/json",
    correlationId: { description: "The request that caused the event", location: "$message.payload#/correlationId" },
    // As envelopeProperties (broker.ts) writes them; the envelope stays the message's authority.
    headers: {
      type: "object",
      properties: {
        "correlation-id": { type: "string", description: "The envelope's correlationId" },
        version: { type: "integer", const: event.version, description: "The envelope's version" },
        [TRACEPARENT_HEADER]: { type: "string", description: "The W3C trace context of the publish span (only while tracing is on)" },
      },
      required: ["correlation-id", "version"],
    },
    payload: {
      ...envelope,
      properties: {
        ...envelope.properties,
        name: { ...envelope.properties.name, const: event.name },
        version: { ...envelope.properties.version, const: event.version },
        ...(publisher ? { source: { ...envelope.properties.source, const: publisher } } : {}),
        data: { ...envelope.properties.data, ...jsonSchema(event.schema) },
      },
    },
    bindings: { amqp: { messageType: event.name, bindingVersion: AMQP_BINDING_VERSION } },
  };
}

type JsonSchemaObject = Record<string, unknown> & { properties: Record<string, Record<string, unknown>> };

/** A TypeBox schema is JSON Schema plus symbol keys (Kind, Optional) that JSON has no place for: a JSON copy drops them. */
function jsonSchema(schema: TSchema): JsonSchemaObject {
  return JSON.parse(JSON.stringify(schema));
}
