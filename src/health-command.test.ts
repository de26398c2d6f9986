import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MODULE_NAMES } from "./config.ts";
import { deleteBrokerObjects, testPrefix } from "./test-support/broker.ts";
import { createTestDatabase, type TestDatabase } from "./test-support/database.ts";
import { eventually } from "./test-support/eventually.ts";
import { httpRequest, runCli, spawnShop, stopAllProcesses } from "./test-support/process.ts";
import { TEST_RETRY_DELAYS_MS, testEnv } from "./test-support/shop.ts";

// `shop health` as a container's health check runs it: beside a running shop, on the shop's PORT.
let database: TestDatabase;
let prefix: string;

beforeAll(async () => {
  database = await createTestDatabase("healthcmd");
  prefix = testPrefix("healthcmd");
});
afterAll(async () => {
  await stopAllProcesses();
  await database?.drop();
  if (prefix) await deleteBrokerObjects(prefix, [...MODULE_NAMES], TEST_RETRY_DELAYS_MS);
});

const portOf = (baseUrl: string) => new URL(baseUrl).port;
const readyState = async (baseUrl: string) => ((await (await httpRequest(baseUrl, "/health/ready")).json()) as { status: string }).status;

describe("shop health", () => {
  test("when the shop here is ready, then it prints the readiness JSON and exits 0; once the shop is stopped, it exits 1", async () => {
    const shop = await spawnShop(testEnv(database, prefix));
    await eventually(() => readyState(shop.baseUrl), { accept: (s) => s === "ok", what: "the shop to be ready" });
    const env = testEnv(database, prefix, { PORT: portOf(shop.baseUrl) });

    const ready = await runCli(["health"], env);
    expect(ready.code).toBe(0);
    expect(JSON.parse(ready.stdout)).toMatchObject({ status: "ok", checks: { postgres: "up", rabbitmq: "up" } });

    expect(await shop.stop()).toBe(0);
    const stopped = await runCli(["health", "--timeout", "1000"], env);
    expect(stopped.code).toBe(1);
    expect(JSON.parse(stopped.stdout)).toMatchObject({ status: "unreachable" });
  }, 60_000);

  test("when RabbitMQ cannot be reached, then the shop is degraded and health still exits 0", async () => {
    // Nothing listens on port 1.
    const shop = await spawnShop(testEnv(database, prefix, { AMQP_URL: "amqp://guest:guest@127.0.0.1:1" }));
    const env = testEnv(database, prefix, { PORT: portOf(shop.baseUrl) });
    const degraded = await runCli(["health"], env);
    expect(JSON.parse(degraded.stdout)).toMatchObject({ status: "degraded", checks: { postgres: "up", rabbitmq: "down" } });
    expect(degraded.code).toBe(0);
    expect(await shop.stop()).toBe(0);
  }, 60_000);

  test("when the timeout is not a number of milliseconds, then it says how to call it and exits 2", async () => {
    const result = await runCli(["health", "--timeout", "soon"], testEnv(database, prefix));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("usage: shop health [--timeout MS]");
  });
});
