import { afterAll, expect, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../test-support/database.ts";
import { ensureDatabase } from "./db.ts";

const borrowed: TestDatabase[] = [];
afterAll(async () => {
  for (const database of borrowed) await database.drop();
});

test("when two instances create the missing database at the same moment, then both succeed and exactly one of them created it", async () => {
  // A unique name (and its cleanup) from the helper, dropped so that it is missing.
  const database = await createTestDatabase("ensure");
  borrowed.push(database);
  await database.drop();

  const created = await Promise.all([ensureDatabase(database.url), ensureDatabase(database.url)]);
  expect(created.sort()).toEqual([false, true]);
  expect(await ensureDatabase(database.url)).toBe(false);
});
