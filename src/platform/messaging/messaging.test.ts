import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { AMQPClient } from "@cloudamqp/amqp-client";
import { Type as t } from "@sinclair/typebox";
import { pgSchema, text, uuid } from "drizzle-orm/pg-core";
import { count, eq, isNull } from "drizzle-orm";
import { openDatabase, type DatabaseHandle } from "../db.ts";
import { createLogger } from "../logger.ts";
import { createTestDatabase, type TestDatabase } from "../../test-support/database.ts";
import { deleteBrokerObjects, drainQueue, publishRaw, TEST_AMQP_URL, testPrefix } from "../../test-support/broker.ts";
import { eventually } from "../../test-support/eventually.ts";
import { TcpProxy } from "../../test-support/tcp-proxy.ts";
import { Broker } from "./broker.ts";
import { on } from "./handler.ts";
import { DEAD_LETTER_REASON_HEADER, MessageConsumer } from "./consumer.ts";
import { createEnvelope } from "./envelope.ts";
import { defineEvent } from "./event.ts";
import { createOutbox } from "./outbox.ts";
import { OutboxRelay } from "./relay.ts";
import { inboxTable, outboxTable } from "./tables.ts";

// A throwaway module "probe" with its own schema, outbox, inbox and one table of effects.
const probe = pgSchema("probe");
const outbox = outboxTable(probe);
const inbox = inboxTable(probe);
const effects = probe.table("effects", { messageId: uuid("message_id").notNull(), note: text("note").notNull() });

const Pinged = defineEvent("probe.pinged", 1, t.Object({ note: t.String() }));
const DDL = `
  create schema probe;
  create table probe.outbox (id uuid primary key, name text not null, envelope jsonb not null,
    created_at timestamptz not null default now(), sent_at timestamptz, attempts int not null default 0, last_error text,
    claimed_until timestamptz);
  create table probe.inbox (message_id uuid not null, handler text not null, processed_at timestamptz not null default now(),
    primary key (message_id, handler));
  create table probe.effects (message_id uuid not null, note text not null);
`;

const RETRY_DELAYS = [50, 100];
const logger = createLogger(process.env.LOG_LEVEL ?? "silent");
const prefix = testPrefix("messaging");
let testDb: TestDatabase;
let database: DatabaseHandle;
let broker: Broker;
let relay: OutboxRelay;
let failuresLeft = 0;
const attemptsByNote = new Map<string, number>();

beforeAll(async () => {
  testDb = await createTestDatabase("messaging");
  database = openDatabase(testDb.url);
  await database.sql.unsafe(DDL).simple();

  broker = new Broker({ url: TEST_AMQP_URL, prefix, logger });
  await new MessageConsumer({
    module: "probe",
    database,
    inbox,
    outbox: createOutbox(outbox, "probe"),
    handlers: [
      on(Pinged, async (data, ctx) => {
        attemptsByNote.set(data.note, (attemptsByNote.get(data.note) ?? 0) + 1);
        if (data.note.startsWith("always-fails")) throw new Error("boom: the handler is broken");
        if (data.note.startsWith("flaky") && failuresLeft-- > 0) throw new Error("transient-looking bug");
        await ctx.tx.insert(effects).values({ messageId: ctx.envelope.id, note: data.note });
      }),
    ],
    broker,
    retryDelaysMs: RETRY_DELAYS,
    logger,
  }).start();
  relay = new OutboxRelay({
    module: "probe",
    database,
    table: outbox,
    publish: (e) => broker.publishEvent(e),
    canPublish: () => broker.connected,
    pollMs: 200,
    logger,
  });
  broker.onConnect(() => relay.wake());
  broker.start();
  await broker.connection.ready;
  await relay.start();
});

afterAll(async () => {
  await relay?.stop();
  await broker?.stop();
  await database?.close();
  await testDb?.drop();
  await deleteBrokerObjects(prefix, ["probe"], RETRY_DELAYS);
});

beforeEach(() => {
  failuresLeft = 0;
});

async function effectsFor(note: string): Promise<number> {
  const [row] = await database.db.select({ n: count() }).from(effects).where(eq(effects.note, note));
  return row?.n ?? 0;
}

async function emit(note: string) {
  return database.db.transaction((tx) => createOutbox(outbox, "probe").add(tx, Pinged, { note }, { correlationId: `c-${note}` }));
}

describe("outbox → RabbitMQ → inbox", () => {
  test("when an event is committed to the outbox, then the consumer applies it once and the row is marked sent", async () => {
    const envelope = await emit("hello");
    await eventually(() => effectsFor("hello"), { accept: (n) => n === 1, what: "the effect" });
    const [row] = await database.db.select().from(outbox).where(eq(outbox.id, envelope.id));
    expect(row?.sentAt).toBeInstanceOf(Date);
  });

  test("when an event becomes visible long after newer ones were sent (a slow transaction), then a full pass still publishes it", async () => {
    await emit("newer");
    await eventually(() => effectsFor("newer"), { accept: (n) => n === 1, what: "the newer event" });
    // Written as if its transaction had started an hour ago and committed only now: older than the relay's window.
    const late = createOutbox(outbox, "probe").envelope(Pinged, { note: "late" }, { correlationId: "c-late" });
    await database.sql`insert into probe.outbox (id, name, envelope, created_at)
      values (${late.id}, ${late.name}, ${JSON.stringify(late)}::jsonb, now() - interval '1 hour')`;
    relay.wake();
    await eventually(() => effectsFor("late"), { accept: (n) => n === 1, what: "the late event (found by a full pass)" });
    const [row] = await database.db.select().from(outbox).where(eq(outbox.id, late.id));
    expect(row?.sentAt).toBeInstanceOf(Date);
  });

  test("when the outbox transaction rolls back, then nothing is published", async () => {
    await database.db
      .transaction(async (tx) => {
        await createOutbox(outbox, "probe").add(tx, Pinged, { note: "rolled-back" }, { correlationId: "c" });
        throw new Error("abort");
      })
      .catch(() => {});
    await emit("after-rollback");
    await eventually(() => effectsFor("after-rollback"), { accept: (n) => n === 1 });
    expect(await effectsFor("rolled-back")).toBe(0);
  });

  test("when a module emits data that breaks its own event schema, then the outbox refuses it and nothing is stored", async () => {
    const add = database.db.transaction((tx) =>
      createOutbox(outbox, "probe").add(tx, Pinged, { note: 7 } as never, { correlationId: "bad-data" }),
    );
    await expect(add).rejects.toThrow(/refusing to publish invalid probe.pinged v1 data: \/note/);
    const stored = await database.db.select().from(outbox).where(eq(outbox.name, Pinged.name));
    expect(stored.every((row) => row.envelope.correlationId !== "bad-data")).toBe(true);
  });

  test("when the same message is delivered twice, then it has one effect", async () => {
    const envelope = createEnvelope(Pinged, { note: "duplicate" }, "probe", { correlationId: "dup" });
    const body = JSON.stringify(envelope);
    await publishRaw(broker.names.events, Pinged.name, body, { messageId: envelope.id });
    await publishRaw(broker.names.events, Pinged.name, body, { messageId: envelope.id });
    await emit("after-duplicate"); // a marker that is handled after both copies
    await eventually(() => effectsFor("after-duplicate"), { accept: (n) => n === 1 });
    await eventually(async () => (await database.db.select().from(inbox).where(eq(inbox.messageId, envelope.id))).length, { accept: (n) => n === 1 });
    expect(await effectsFor("duplicate")).toBe(1);
  });
});

describe("poison messages", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["malformed JSON", "{not json", /invalid JSON/],
    ["a body that is not an envelope", JSON.stringify({ hello: "world" }), /invalid envelope/],
    [
      "an envelope whose data breaks the schema",
      JSON.stringify(createEnvelope(Pinged, { note: 42 } as never, "probe", { correlationId: "x" })),
      /invalid probe.pinged v1 data/,
    ],
    [
      "an unknown event version",
      JSON.stringify({ ...createEnvelope(Pinged, { note: "v9" }, "probe", { correlationId: "x" }), version: 9 }),
      /unknown version 9/,
    ],
  ];
  for (const [what, body, reason] of cases) {
    test(`when ${what} arrives, then it lands in the DLQ with the reason and the consumer goes on`, async () => {
      await publishRaw(broker.names.events, Pinged.name, body);
      const marker = `after-poison-${crypto.randomUUID()}`;
      await emit(marker);
      await eventually(() => effectsFor(marker), { accept: (n) => n === 1, what: "the next good message" });
      const parked = await eventually(() => drainQueue(broker.names.dlq("probe")), { accept: (m) => m.length > 0, what: "a DLQ message" });
      expect(parked).toHaveLength(1);
      expect(parked[0]!.body).toBe(body);
      expect(String(parked[0]!.headers[DEAD_LETTER_REASON_HEADER])).toMatch(reason);
    });
  }
});

describe("failing handlers", () => {
  test("when a handler keeps failing, then it is retried with delays and then parked in the DLQ with the error", async () => {
    const note = `always-fails-${crypto.randomUUID()}`;
    await emit(note);
    const parked = await eventually(() => drainQueue(broker.names.dlq("probe")), { accept: (m) => m.length > 0, what: "the parked message" });
    expect(JSON.parse(parked[0]!.body).data.note).toBe(note);
    expect(String(parked[0]!.headers[DEAD_LETTER_REASON_HEADER])).toMatch(/handler failed after 3 attempts: Error: boom/);
    expect(attemptsByNote.get(note)).toBe(1 + RETRY_DELAYS.length);
    expect(await effectsFor(note)).toBe(0);
  });

  test("when the retry queues were deleted while the consumer runs, then a failing message is not dropped: the queues are declared again and it is retried and parked", async () => {
    const operator = new AMQPClient(TEST_AMQP_URL, undefined, null);
    await operator.connect();
    try {
      for (const delay of RETRY_DELAYS) {
        const ch = await operator.channel();
        await ch.queueDelete(broker.names.retry("probe", delay));
        await ch.close();
      }
    } finally {
      await operator.close();
    }
    const note = `always-fails-unrouted-${crypto.randomUUID()}`;
    await emit(note);
    const parked = await eventually(() => drainQueue(broker.names.dlq("probe")), { accept: (m) => m.length > 0, what: "the parked message" });
    expect(JSON.parse(parked[0]!.body).data.note).toBe(note);
    expect(String(parked[0]!.headers[DEAD_LETTER_REASON_HEADER])).toMatch(/handler failed after 3 attempts: Error: boom/);
    expect(await effectsFor(note)).toBe(0);
  });

  test("when a handler fails twice and then succeeds, then the event has exactly one effect", async () => {
    failuresLeft = 2;
    const note = `flaky-${crypto.randomUUID()}`;
    await emit(note);
    await eventually(() => effectsFor(note), { accept: (n) => n === 1, what: "the eventual effect" });
    expect(attemptsByNote.get(note)).toBe(3);
  });
});

describe("broker outage", () => {
  test("when events are committed while RabbitMQ is unreachable, then they are delivered once it is back", async () => {
    const proxy = await new TcpProxy("127.0.0.1", 5672).start();
    const url = new URL(TEST_AMQP_URL);
    url.port = String(proxy.port);
    const outagePrefix = testPrefix("outage");
    const db2 = await createTestDatabase("outage");
    const handle = openDatabase(db2.url);
    await handle.sql.unsafe(DDL).simple();
    const b = new Broker({ url: url.toString(), prefix: outagePrefix, logger });
    await new MessageConsumer({
      module: "probe",
      database: handle,
      inbox,
      outbox: createOutbox(outbox, "probe"),
      handlers: [on(Pinged, async (data, ctx) => void (await ctx.tx.insert(effects).values({ messageId: ctx.envelope.id, note: data.note })))],
      broker: b,
      retryDelaysMs: RETRY_DELAYS,
      logger,
    }).start();
    const r = new OutboxRelay({ module: "probe", database: handle, table: outbox, publish: (e) => b.publishEvent(e), canPublish: () => b.connected, pollMs: 100, logger });
    b.onConnect(() => r.wake());
    try {
      b.start();
      await b.connection.ready;
      await r.start();
      proxy.down();
      await eventually(() => !b.connected, { what: "the broker to be seen as down" });

      const notes = Array.from({ length: 20 }, (_, i) => `outage-${i}`);
      for (const note of notes) {
        await handle.db.transaction((tx) => createOutbox(outbox, "probe").add(tx, Pinged, { note }, { correlationId: note }));
      }
      const [pending] = await handle.db.select({ n: count() }).from(outbox).where(isNull(outbox.sentAt));
      expect(pending?.n).toBe(20);

      proxy.restore();
      await eventually(
        async () => (await handle.db.select({ n: count() }).from(effects))[0]?.n ?? 0,
        { accept: (n) => n === 20, timeoutMs: 30_000, what: "all 20 effects" },
      );
      await eventually(async () => (await handle.db.select().from(outbox).where(isNull(outbox.sentAt))).length, {
        accept: (n) => n === 0,
        what: "every outbox row marked sent",
      });
    } finally {
      await r.stop();
      await b.stop();
      await handle.close();
      await proxy.stop();
      await db2.drop();
      await deleteBrokerObjects(outagePrefix, ["probe"], RETRY_DELAYS);
    }
  });
});
