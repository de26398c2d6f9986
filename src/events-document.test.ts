import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Parser } from "@asyncapi/parser";
import pino from "pino";
import * as inventoryContract from "../modules/inventory/contract.ts";
import * as notificationContract from "../modules/notification/contract.ts";
import * as ordersContract from "../modules/orders/contract.ts";
import { eventsDocument, MODULES } from "./app.ts";
import { MODULE_NAMES } from "./config.ts";
import { eventMessageId, receiveOperationId, sendOperationId } from "./platform/messaging/asyncapi.ts";
import { envelopeProperties } from "./platform/messaging/broker.ts";
import { createEnvelope } from "./platform/messaging/envelope.ts";
import type { EventDefinition } from "./platform/messaging/event.ts";
import { createHttpApp } from "./platform/http/server.ts";
import { createAuthenticator } from "./platform/http/authenticator.ts";
import { runCli, stopAllProcesses } from "./test-support/process.ts";

// The AsyncAPI document of the events, checked against what defines them: the modules' contracts and definitions
// (src/app.ts MODULES), the envelope and AMQP properties the broker really sends, and the AsyncAPI parser.

afterAll(stopAllProcesses);

const PREFIX = "docs-test.";
// The document is JSON: read it as a client would.
const doc: any = JSON.parse(JSON.stringify(eventsDocument(PREFIX)));

/** Every module's contract: the events it defines are whatever EventDefinitions it exports. */
const CONTRACTS: Record<string, Record<string, unknown>> = { orders: ordersContract, inventory: inventoryContract, notification: notificationContract };
const isEvent = (value: unknown): value is EventDefinition =>
  typeof value === "object" && value !== null && "name" in value && "version" in value && "schema" in value;
const eventsOf = (contract: Record<string, unknown>) => Object.values(contract).filter(isEvent);
const modules = Object.values(MODULES);
const allEvents = modules.flatMap((m) => eventsOf(CONTRACTS[m.name]!));

async function parserErrors(json: string): Promise<string[]> {
  const { diagnostics } = await new Parser().parse(json);
  return diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join("/")}: ${d.message}`);
}

describe("the document", () => {
  test("is a valid AsyncAPI 3.0.0 document (no parser error)", async () => {
    expect(doc.asyncapi).toBe("3.0.0");
    expect(await parserErrors(JSON.stringify(doc))).toEqual([]);
  });

  test("the parser check fails a broken document (a channel reference to nowhere)", async () => {
    const broken = structuredClone(doc);
    broken.operations[sendOperationId("orders", ordersContract.OrderPlaced)].channel = { $ref: "#/channels/nowhere" };
    expect(await parserErrors(JSON.stringify(broken))).not.toEqual([]);
  });

  test("each module declares as published exactly the events its contract defines", () => {
    expect(Object.keys(CONTRACTS).sort()).toEqual([...MODULE_NAMES].sort());
    expect(allEvents.length).toBeGreaterThan(0);
    for (const module of modules) expect(module.publishes.map((e) => e.name).sort()).toEqual(eventsOf(CONTRACTS[module.name]!).map((e) => e.name).sort());
  });

  test("names the RabbitMQ server by variables, never the configured AMQP_URL", () => {
    const server = doc.servers.rabbitmq;
    expect(server.protocol).toBe("amqp");
    expect(server.host).toBe("{host}:{port}");
    expect(JSON.stringify(doc)).not.toContain("guest");
  });
});

describe("every event of every contract", () => {
  for (const event of allEvents) {
    const publisher = modules.find((m) => eventsOf(CONTRACTS[m.name]!).includes(event))!.name;
    const consumers = modules.filter((m) => m.consumes.includes(event)).map((m) => m.name);

    test(`${event.name}: a channel with its routing key on the prefixed topic exchange`, () => {
      const channel = doc.channels[event.name];
      expect(channel.address).toBe(event.name);
      expect(channel.bindings.amqp).toMatchObject({ is: "routingKey", exchange: { name: `${PREFIX}events`, type: "topic", durable: true } });
      if (event.description) expect(channel.description).toBe(event.description);
    });

    test(`${event.name}: its message is the envelope with the event's data schema, version and publisher`, () => {
      const message = doc.components.messages[eventMessageId(event)];
      const payload = message.payload;
      expect(payload.properties.name.const).toBe(event.name);
      expect(payload.properties.version.const).toBe(event.version);
      expect(payload.properties.source.const).toBe(publisher);
      // The data schema as JSON Schema: the TypeBox schema without its symbol keys, nothing lost.
      const { description: _envelopeText, ...data } = payload.properties.data;
      expect(data).toEqual(JSON.parse(JSON.stringify(event.schema)));
      expect(Object.getOwnPropertySymbols(event.schema).length).toBeGreaterThan(0);
      expect(doc.channels[event.name].messages[eventMessageId(event)]).toEqual({ $ref: `#/components/messages/${eventMessageId(event)}` });
    });

    test(`${event.name}: the documented message is what the broker sends (envelope body, AMQP headers)`, () => {
      const message = doc.components.messages[eventMessageId(event)];
      // What Broker.publishEvent sends: the envelope as JSON, and envelopeProperties' headers (with a trace context).
      const envelope = JSON.parse(
        JSON.stringify(createEnvelope(event, {} as never, publisher, { correlationId: "c-1", causationId: "m-0", traceparent: `00-${"a".repeat(32)}-${"b".repeat(16)}-01` })),
      );
      const headers = envelopeProperties(envelope).headers!;
      for (const [documented, actual] of [
        [message.payload, envelope],
        [message.headers, headers],
      ]) {
        expect(Object.keys(actual).filter((key) => !(key in documented.properties))).toEqual([]);
        expect(documented.required.filter((key: string) => !(key in actual))).toEqual([]);
      }
      expect(message.bindings.amqp.messageType).toBe(envelopeProperties(envelope).type!);
    });

    test(`${event.name}: sent by ${publisher}, received by ${consumers.join(", ") || "no module"}`, () => {
      const channelOps = Object.entries(doc.operations as Record<string, any>).filter(([, op]) => op.channel.$ref === `#/channels/${event.name}`);
      expect(channelOps.filter(([, op]) => op.action === "send").map(([id]) => id)).toEqual([sendOperationId(publisher, event)]);
      expect(
        channelOps
          .filter(([, op]) => op.action === "receive")
          .map(([id]) => id)
          .sort(),
      ).toEqual(consumers.map((m) => receiveOperationId(m, event)).sort());
      for (const [, op] of channelOps) expect(op.messages).toEqual([{ $ref: `#/channels/${event.name}/messages/${eventMessageId(event)}` }]);
    });
  }

  test("field descriptions from the contracts reach the document", () => {
    const placed = doc.components.messages[eventMessageId(ordersContract.OrderPlaced)].payload.properties.data;
    expect(placed.properties.version.description).toContain("The order's version");
  });
});

describe("GET /docs/asyncapi.json", () => {
  const app = createHttpApp({ logger: pino({ level: "silent" }), authenticator: createAuthenticator({ secret: "s".repeat(32) }), readiness: {}, eventsDocument: eventsDocument(PREFIX) });

  test("serves the same document, without a token (a broken one is ignored), and is not one of the API's operations", async () => {
    const res = await app.handle(new Request("http://localhost/docs/asyncapi.json", { headers: { authorization: "Bearer broken" } }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toEqual(doc);
    const openapi: any = await (await app.handle(new Request("http://localhost/docs/json"))).json();
    expect(Object.keys(openapi.paths).filter((path) => path.startsWith("/docs"))).toEqual([]);
  });
});

describe("shop docs", () => {
  // Database and broker addresses where nothing listens: the command must not need either.
  const env = { NODE_ENV: "test", LOG_LEVEL: "silent", AMQP_PREFIX: "cli-docs.", DATABASE_URL: "postgres://x@127.0.0.1:1/none", AMQP_URL: "amqp://127.0.0.1:1" };

  test("--out writes a valid document with the configured prefix, and the same as the route serves", async () => {
    const dir = await mkdtemp(join(tmpdir(), "shop-docs-"));
    try {
      const file = join(dir, "asyncapi.json");
      const result = await runCli(["docs", "--out", file], env);
      expect(result.code).toBe(0);
      const json = await readFile(file, "utf8");
      expect(await parserErrors(json)).toEqual([]);
      expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(eventsDocument("cli-docs."))));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("without --out prints the document on stdout", async () => {
    const result = await runCli(["docs"], env);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).channels[ordersContract.OrderPlaced.name].bindings.amqp.exchange.name).toBe("cli-docs.events");
  });

  test("a file it cannot write is named, exit 1, no stack trace", async () => {
    const result = await runCli(["docs", "--out", "/nonexistent-dir/asyncapi.json"], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("cannot write /nonexistent-dir/asyncapi.json");
    expect(result.stderr).not.toMatch(/^\s+at .+[:(]/m);
  });
});
