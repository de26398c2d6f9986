import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { openDatabase, type DatabaseHandle } from "./db.ts";
import { createLogger } from "./logger.ts";
import { NotifiedLoop } from "./notified-loop.ts";
import { createTestDatabase, type TestDatabase } from "../test-support/database.ts";
import { eventually } from "../test-support/eventually.ts";

let testDb: TestDatabase;
let database: DatabaseHandle;
const logger = createLogger("silent");

beforeAll(async () => {
  testDb = await createTestDatabase("notified_loop");
  database = openDatabase(testDb.url);
});

afterAll(async () => {
  await database?.close();
  await testDb?.drop();
});

function loop(channel: string, options: { lingerMs?: number; pass: () => Promise<boolean> }) {
  return new NotifiedLoop({ name: "test loop", sql: database.sql, channel, pollMs: 60_000, logger, ...options });
}

describe("NotifiedLoop", () => {
  test("when NOTIFYs arrive while it lingers, then one pass takes them all; idle() waits for that pass", async () => {
    const channel = `loop_${crypto.randomUUID().slice(0, 8)}`;
    let passes = 0;
    const subject = loop(channel, { lingerMs: 300, pass: async () => (passes++, false) });
    await subject.start();
    await subject.idle(); // the pass start() asks for
    const before = passes;
    // Five notifications (distinct payloads, so PostgreSQL does not fold them), delivered together at commit.
    await database.sql`select pg_notify(${channel}, 'work ' || n) from generate_series(1, 5) as n`;
    await eventually(() => passes, { accept: (n) => n > before, what: "the lingered pass" });
    await subject.idle();
    expect(passes - before).toBe(1);
    subject.wake();
    await subject.idle();
    expect(passes - before).toBe(2);
    await subject.stop();
  });

  test("when it does not linger, then each NOTIFY that finds it idle makes a pass", async () => {
    const channel = `loop_${crypto.randomUUID().slice(0, 8)}`;
    let passes = 0;
    const subject = loop(channel, { pass: async () => (passes++, false) });
    await subject.start();
    await subject.idle();
    const before = passes;
    await database.sql`select pg_notify(${channel}, 'work')`;
    await eventually(() => passes, { accept: (n) => n === before + 1, what: "a pass for the NOTIFY" });
    await subject.idle();
    await database.sql`select pg_notify(${channel}, 'work')`;
    await eventually(() => passes, { accept: (n) => n === before + 2, what: "a pass for the second NOTIFY" });
    await subject.stop();
  });

  test("when it is stopped while lingering, then no pass runs and stop() returns", async () => {
    const channel = `loop_${crypto.randomUUID().slice(0, 8)}`;
    let passes = 0;
    const subject = loop(channel, { lingerMs: 200, pass: async () => (passes++, false) });
    await subject.start();
    await subject.idle();
    const before = passes;
    subject.wake();
    await subject.stop();
    await Bun.sleep(300); // longer than the linger: a pass the stop failed to cancel would have run by now
    expect(passes).toBe(before);
  });
});
