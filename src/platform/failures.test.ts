import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AMQPClient } from "@cloudamqp/amqp-client";
import { sql } from "drizzle-orm";
import { DrizzleQueryError } from "drizzle-orm/errors";
import postgres from "postgres";
import { createTestDatabase, type TestDatabase } from "../test-support/database.ts";
import { openDatabase, type DatabaseHandle } from "./db.ts";
import { errorToProblem } from "./http/problem.ts";
import { classify, describeFailure, isTransient } from "./failures.ts";

// Every error here is produced by a real PostgreSQL (or a real closed port), through drizzle where the shop's
// code goes through drizzle, so the classifier is tested on the shapes it meets in production.
let database: TestDatabase;
let handle: DatabaseHandle;

beforeAll(async () => {
  database = await createTestDatabase("failures");
  handle = openDatabase(database.url, { max: 4 });
  await handle.sql`create table item (id int primary key, name text not null, stock int not null constraint stock_not_negative check (stock >= 0))`;
  await handle.sql`insert into item values (1, 'one', 1), (2, 'two', 2)`;
});
afterAll(async () => {
  await handle?.close();
  await database?.drop();
});

/** The error `work` rejects with (failing the test when it succeeds). */
async function failureOf(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error("expected the work to fail");
}

describe("classify, on errors of a real PostgreSQL", () => {
  test("when drizzle's insert breaks a primary key, then it is a constraint failure naming the constraint, not transient", async () => {
    const error = await failureOf(() => handle.db.execute(sql`insert into item values (${1}, ${"again"}, ${0})`));
    expect(error).toBeInstanceOf(DrizzleQueryError);
    expect(classify(error)).toMatchObject({ kind: "constraint", code: "23505", constraint: "item_pkey" });
    expect(isTransient(error)).toBe(false);
  });

  test("when a check constraint refuses an update, then it is a constraint failure naming that check", async () => {
    const error = await failureOf(() => handle.db.execute(sql`update item set stock = ${-1} where id = ${1}`));
    expect(classify(error)).toMatchObject({ kind: "constraint", code: "23514", constraint: "stock_not_negative" });
  });

  test("when a value is out of its column's range, then it is 'other' with the SQLSTATE and the database's own words", async () => {
    const error = await failureOf(() => handle.db.execute(sql`update item set stock = stock + ${2 ** 31 - 1} where id = ${2}`));
    const failure = classify(error);
    expect(failure).toMatchObject({ kind: "other", code: "22003" });
    expect(failure.message).toContain("out of range");
    expect(failure.message).not.toContain("update item");
  });

  test("when a statement runs past the statement timeout, then it is 'overloaded' and not transient (the work itself may be slow)", async () => {
    const error = await failureOf(() =>
      handle.db.transaction(async (tx) => {
        await tx.execute(sql`set local statement_timeout = 50`);
        await tx.execute(sql`select pg_sleep(${2})`);
      }),
    );
    expect(classify(error)).toMatchObject({ kind: "overloaded", code: "57014" });
    expect(isTransient(error)).toBe(false);
  });

  test("when the server is not listening on the port, then it is 'unreachable' and transient, described by its socket code", async () => {
    const closed = postgres("postgres://postgres@127.0.0.1:1/none", { max: 1, connect_timeout: 5, onnotice: () => {} });
    try {
      const error = await failureOf(() => closed`select 1`);
      expect(classify(error)).toMatchObject({ kind: "unreachable", code: "ECONNREFUSED" });
      expect(isTransient(error)).toBe(true);
      expect(describeFailure(error)).toBe("ECONNREFUSED");
    } finally {
      await closed.end({ timeout: 1 });
    }
  });

  test("when the database's host name does not resolve, then it is 'unreachable': HTTP answers 503 and a handler is retried for free alike", async () => {
    const nowhere = postgres("postgres://postgres@shop-database.invalid/none", { max: 1, connect_timeout: 5, onnotice: () => {} });
    try {
      const error = await failureOf(() => nowhere`select 1`);
      expect(classify(error).kind).toBe("unreachable");
      expect(isTransient(error)).toBe(true);
      expect(errorToProblem(error, { requestId: "r" }).status).toBe(503);
    } finally {
      await nowhere.end({ timeout: 1 });
    }
  });

  test("when the server ends the session (pg_terminate_backend), then it is 'unreachable'", async () => {
    const victim = openDatabase(database.url, { max: 1 });
    try {
      const [backend] = await victim.sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
      const pid = backend!.pid;
      const error = await failureOf(() =>
        victim.db.transaction(async (tx) => {
          await tx.execute(sql`select 1`);
          await handle.sql`select pg_terminate_backend(${pid})`;
          await tx.execute(sql`select ${2}`);
        }),
      );
      expect(classify(error).kind).toBe("unreachable");
      expect(isTransient(error)).toBe(true);
    } finally {
      await victim.close();
    }
  });

  test("when two transactions lock the same rows in opposite order, then the one PostgreSQL aborts is 'contention' and transient", async () => {
    const bothLocked = { first: Promise.withResolvers<void>(), second: Promise.withResolvers<void>() };
    const crosswise = (mine: number, other: number, locked: PromiseWithResolvers<void>, otherLocked: Promise<void>) =>
      handle.db.transaction(async (tx) => {
        await tx.execute(sql`set local deadlock_timeout = '100ms'`);
        await tx.execute(sql`select id from item where id = ${mine} for update`);
        locked.resolve();
        await otherLocked;
        await tx.execute(sql`select id from item where id = ${other} for update`);
      });
    const outcomes = await Promise.allSettled([
      crosswise(1, 2, bothLocked.first, bothLocked.second.promise),
      crosswise(2, 1, bothLocked.second, bothLocked.first.promise),
    ]);
    const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
    expect(rejected).toHaveLength(1);
    expect(classify(rejected[0]!.reason)).toMatchObject({ kind: "contention", code: "40P01" });
    expect(isTransient(rejected[0]!.reason)).toBe(true);
  });

  test("when a schema change alters the result of a prepared statement, then it is 'stale' and transient, and the same query then succeeds", async () => {
    const one = openDatabase(database.url, { max: 1 });
    try {
      const read = () => one.db.execute(sql`select * from item where id = ${1}`);
      await read();
      await handle.sql`alter table item add column note text`;
      const error = await failureOf(read);
      expect(classify(error)).toMatchObject({ kind: "stale", code: "0A000" });
      expect(isTransient(error)).toBe(true);
      expect((await read()).length).toBe(1);
    } finally {
      await one.close();
      await handle.sql`alter table item drop column note`;
    }
  });
});

describe("classify, on the shape of the chain", () => {
  test("when the cause chain is a cycle, then the walk ends and says 'other'", () => {
    const a = new Error("a") as Error & { cause?: unknown };
    const b = new Error("b", { cause: a });
    a.cause = b;
    expect(classify(a)).toEqual({ kind: "other" });
  });

  test("when a known code sits below an unknown SQLSTATE, then the known code decides", () => {
    const error = Object.assign(new Error("outer"), { code: "XX000", cause: Object.assign(new Error("gone"), { code: "08006" }) });
    expect(classify(error).kind).toBe("unreachable");
  });

  test("when something that is not an error is thrown, then it is 'other'", () => {
    for (const thrown of [undefined, null, "text", 42]) expect(classify(thrown)).toEqual({ kind: "other" });
  });
});

test("when the broker is not listening on the port, then describeFailure says what the client said", async () => {
  const error = await failureOf(() => new AMQPClient("amqp://guest:guest@127.0.0.1:1").connect());
  expect(describeFailure(error)).toContain("ECONNREFUSED");
  expect(classify(error).kind).toBe("other");
});
