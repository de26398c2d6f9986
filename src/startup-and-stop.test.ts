import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { DEMO_CATALOG } from "../modules/inventory/application/seed-catalog.ts";
import { MODULE_NAMES } from "./config.ts";
import { createAuthenticator } from "./platform/http/authenticator.ts";
import { deleteBrokerObjects, testPrefix } from "./test-support/broker.ts";
import { createTestDatabase, type TestDatabase } from "./test-support/database.ts";
import { eventually } from "./test-support/eventually.ts";
import { httpRequest, listening, runCli, spawnCli, spawnShop, stopAllProcesses, type ShopProcess } from "./test-support/process.ts";
import { assertSettled } from "./test-support/settlement.ts";
import { consumerChecks } from "./test-support/fault-fixture.ts";
import { TcpProxy } from "./test-support/tcp-proxy.ts";
import { admin, alice, TEST_AUTH_SECRET, TEST_RETRY_DELAYS_MS, testEnv } from "./test-support/shop.ts";

// The real CLI as an operator runs it: started before its dependencies, stopped under load, migrating twice.
let database: TestDatabase;
let prefix: string;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  database = await createTestDatabase("startup");
  prefix = testPrefix("startup");
});
afterAll(async () => {
  await stopAllProcesses();
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await database?.drop();
  if (prefix) await deleteBrokerObjects(prefix, [...MODULE_NAMES], TEST_RETRY_DELAYS_MS);
});

/** A proxy stopped in afterAll whatever happens to the test. */
async function proxyTo(port: number): Promise<TcpProxy> {
  const proxy = await new TcpProxy("127.0.0.1", port).start();
  cleanups.push(() => proxy.stop());
  return proxy;
}

async function query<T extends Record<string, unknown>>(url: string, run: (sql: postgres.Sql) => Promise<T[]>): Promise<T[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await run(sql);
  } finally {
    await sql.end();
  }
}

const readiness = async (shop: ShopProcess) => {
  const res = await httpRequest(shop.baseUrl, "/health/ready");
  return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, string> } };
};

async function createProduct(shop: ShopProcess, stock: number): Promise<string> {
  const sku = `PROC-${crypto.randomUUID().slice(0, 8)}`;
  const res = await httpRequest(shop.baseUrl, `/products/${sku}`, {
    method: "PUT",
    as: admin,
    json: { name: `Product ${sku}`, priceCents: 500, currency: "EUR", stock },
  });
  expect(res.status).toBe(201);
  return sku;
}

/** Places an order, retrying while orders does not know the price yet (it arrives by event). */
async function placeWhenPriced(shop: ShopProcess, sku: string, timeoutMs = 15_000): Promise<string> {
  const res = await eventually(() => httpRequest(shop.baseUrl, "/orders", { method: "POST", as: alice, json: { items: [{ sku, quantity: 1 }] } }), {
    accept: (r) => r.status !== 422,
    timeoutMs,
    what: "orders to know the product's price",
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/** pino's JSON lines in a process's stdout (the human banner and anything else is skipped). */
function logEntries(stdout: string): Array<Record<string, unknown>> {
  return stdout.split("\n").flatMap((line) => {
    if (!line.startsWith("{")) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

const statusOf = async (shop: ShopProcess, id: string) =>
  ((await (await httpRequest(shop.baseUrl, `/orders/${id}`, { as: alice })).json()) as { status: string }).status;

describe("starting before the dependencies", () => {
  test(
    "when PostgreSQL is unreachable at start, then the process waits saying where and how to start it, and finishes starting once it is back",
    async () => {
      const proxy = await proxyTo(5432);
      proxy.down();
      const url = new URL(database.url);
      url.port = String(proxy.port);
      const cli = spawnCli(["serve"], testEnv(database, prefix, { DATABASE_URL: url.toString(), LOG_LEVEL: "info" }));

      const unreachable = new RegExp(`PostgreSQL is unreachable at 127\\.0\\.0\\.1:${proxy.port}\\b[^\\n]*docker compose up -d postgres`, "g");
      await cli.waitForOutput(unreachable);
      // A second report means it retried rather than gave up; it is still alive and not serving.
      await cli.waitForOutput(new RegExp(`(${unreachable.source}[\\s\\S]*){2}`));
      expect(cli.proc.exitCode).toBeNull();
      expect(cli.output()).not.toContain("shop is up");

      proxy.restore();
      const shop = await listening(cli, 30_000);
      const ready = await eventually(() => readiness(shop), { accept: (r) => r.body.status === "ok", what: "readiness" });
      expect(ready).toEqual({ status: 200, body: { status: "ok", checks: { postgres: "up", rabbitmq: "up", ...consumerChecks("up") } } });
      expect(await shop.stop()).toBe(0);
    },
    60_000,
  );

  test(
    "when RabbitMQ is unreachable at start, then HTTP serves and says rabbitmq is down, and once it is back the flow completes; orders placed during a later outage are kept and confirmed",
    async () => {
      const proxy = await proxyTo(5672);
      proxy.down();
      const shop = await spawnShop(testEnv(database, prefix, { AMQP_URL: `amqp://guest:guest@127.0.0.1:${proxy.port}`, LOG_LEVEL: "info" }));

      // Ready for a load balancer (orders go into the outbox), but degraded.
      const down = await readiness(shop);
      expect(down.status).toBe(200);
      expect(down.body).toEqual({ status: "degraded", checks: { postgres: "up", rabbitmq: "down", ...consumerChecks("down") } });
      await shop.waitForOutput(new RegExp(`RabbitMQ is unreachable at 127\\.0\\.0\\.1:${proxy.port}\\b[^\\n]*docker compose up -d rabbitmq`));
      // Writing to the catalog only touches the database (the event waits in the outbox).
      const sku = await createProduct(shop, 5);

      proxy.restore();
      await eventually(() => readiness(shop), { accept: (r) => r.body.status === "ok", timeoutMs: 20_000, what: "readiness after the broker is back" });
      const first = await placeWhenPriced(shop, sku);
      await eventually(() => statusOf(shop, first), { accept: (s) => s === "confirmed", what: "the first order's confirmation" });

      // A second outage, now that orders knows the price: orders are still accepted and wait in the outbox.
      proxy.down();
      await eventually(() => readiness(shop), { accept: (r) => r.body.checks.rabbitmq === "down", what: "readiness to report the outage" });
      const res = await httpRequest(shop.baseUrl, "/orders", { method: "POST", as: alice, json: { items: [{ sku, quantity: 1 }] } });
      expect(res.status).toBe(201);
      const second = ((await res.json()) as { id: string }).id;
      expect(await statusOf(shop, second)).toBe("pending");

      proxy.restore();
      await eventually(() => statusOf(shop, second), { accept: (s) => s === "confirmed", timeoutMs: 30_000, what: "the order placed during the outage" });
      const product = (await (await httpRequest(shop.baseUrl, `/products/${sku}`, { as: admin })).json()) as { reserved: number };
      expect(product.reserved).toBe(2);
      expect(await shop.stop()).toBe(0);
    },
    60_000,
  );
});

describe("stopping", () => {
  test(
    "when SIGTERM arrives while many orders are being placed, then it exits 0 and every order answered 201 is stored and reaches a final status after a restart",
    async () => {
      const STOCK = 20;
      const env = testEnv(database, prefix, { LOG_LEVEL: "info" });
      const first = await spawnShop(env);
      const sku = await createProduct(first, STOCK);
      const accepted = [await placeWhenPriced(first, sku)];

      const statuses: Array<number | string> = [];
      const place = async () => {
        try {
          const res = await httpRequest(first.baseUrl, "/orders", { method: "POST", as: alice, json: { items: [{ sku, quantity: 1 }] } });
          statuses.push(res.status);
          if (res.status === 201) accepted.push(((await res.json()) as { id: string }).id);
        } catch (error) {
          statuses.push((error as Error).name); // refused or cut while stopping: not accepted, nothing to check
        }
      };
      const burst = Array.from({ length: 50 }, place);
      // Signal while the burst is in flight: as soon as its first answer is back.
      await eventually(() => statuses.length > 0, { intervalMs: 1, what: "a first answer" });
      const answeredBeforeSignal = statuses.length;
      first.proc.kill("SIGTERM");
      // Keep the stream going until the process is gone: late requests must be refused, never half-accepted.
      const stream = (async () => {
        while (first.proc.exitCode === null) {
          await Promise.all(Array.from({ length: 5 }, place));
          await Bun.sleep(5); // pacing, so refused connections do not spin
        }
      })();
      const code = await first.exited;
      await Promise.all([...burst, stream]);

      expect(code).toBe(0);
      const logLines = logEntries(first.stdout());
      const signalled = logLines.findIndex((l) => l.msg === "shutting down");
      expect(signalled).toBeGreaterThan(-1);
      expect(logLines.at(-1)?.msg).toBe("stopped");
      expect(first.output()).not.toMatch(/timed out|error during shutdown/);
      // The signal really caught requests in flight, and the server answered them (its access log says so
      // after "shutting down") rather than cutting them.
      expect(answeredBeforeSignal).toBeLessThan(50);
      const answeredWhileStopping = logLines.slice(signalled).filter((l) => l.msg === "request" && l.path === "/orders" && l.status === 201);
      expect(answeredWhileStopping.length).toBeGreaterThan(0);
      // Anything not accepted was refused outright (no connection, or 503): never a 500 or a half answer.
      expect(statuses.filter((s) => typeof s === "number" && s !== 201 && s !== 503)).toEqual([]);

      const stored = await query(database.url, (sql) => sql<{ id: string }[]>`select id from orders.orders where id = any(${accepted})`);
      expect(stored.map((r) => r.id).sort()).toEqual([...accepted].sort());

      // A new process on the same database and queues finishes whatever was still on its way: every accepted
      // order final, each event applied once, stock exactly what the confirmed orders hold, `shop check` clean.
      const second = await spawnShop(env);
      const sql = postgres(database.url, { max: 2, onnotice: () => {} });
      try {
        const settled = await assertSettled({
          label: "graceful stop (SIGTERM under load)",
          sqlOf: () => sql,
          env,
          prefix,
          acceptedIds: accepted,
          placed: statuses.length + 1,
          initialStock: { [sku]: STOCK },
          faults: "SIGTERM ×1 mid-burst, restarted",
        });
        expect(settled.statuses.confirmed).toBe(Math.min(STOCK, accepted.length));
      } finally {
        await sql.end();
      }
      expect(await second.stop()).toBe(0);
    },
    60_000,
  );
});

describe("shop migrate", () => {
  test(
    "when two migrate commands run at once against a database that does not exist yet, then both succeed and every migration is applied once",
    async () => {
      // Borrow a unique name (and its cleanup) from the helper, then drop it so `migrate` has to create it.
      const fresh = await createTestDatabase("migrate");
      cleanups.push(() => fresh.drop());
      await fresh.drop();
      const env = testEnv(fresh, prefix, { LOG_LEVEL: "info" });

      const [a, b] = await Promise.all([runCli(["migrate"], env), runCli(["migrate"], env)]);
      expect({ code: a.code, stderr: a.stderr }).toEqual({ code: 0, stderr: "" });
      expect({ code: b.code, stderr: b.stderr }).toEqual({ code: 0, stderr: "" });
      // Losing the race to create the database is no outage: nothing may claim PostgreSQL was unreachable.
      for (const run of [a, b]) expect(run.stdout).not.toContain("unreachable");

      // drizzle's bookkeeping: one row per applied migration, per module.
      const applied = async () =>
        query(fresh.url, (sql) =>
          Promise.all(
            [...MODULE_NAMES].sort().map(async (module) => {
              const [row] = await sql<{ n: number }[]>`select count(*)::int as n from ${sql(`drizzle.${module}_migrations`)}`;
              return { module, n: row?.n ?? 0 };
            }),
          ),
        );
      const journals = Object.fromEntries(
        await Promise.all(
          MODULE_NAMES.map(async (m) => [m, ((await Bun.file(`${import.meta.dir}/../drizzle/${m}/meta/_journal.json`).json()) as { entries: unknown[] }).entries.length] as const),
        ),
      );
      const once = [...MODULE_NAMES].sort().map((module) => ({ module, n: journals[module] ?? -1 }));
      expect(await applied()).toEqual(once);

      const tables = await query(fresh.url, (sql) => sql<{ name: string }[]>`
        select table_schema || '.' || table_name as name from information_schema.tables
        where table_schema in ('orders', 'inventory', 'notification') order by 1`);
      expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(["orders.orders", "orders.outbox", "inventory.products", "notification.notifications"]));

      // And a third run later is a no-op.
      const again = await runCli(["migrate"], env);
      expect(again.code).toBe(0);
      expect(await applied()).toEqual(once);
    },
    60_000,
  );
});

describe("shop token", () => {
  test("when asked for an admin token, then it prints a JWT signed with AUTH_SECRET whose payload has role admin", async () => {
    const env = testEnv(database, prefix);
    const result = await runCli(["token", "--sub", "x", "--email", "x@example.com", "--admin"], env);
    expect(result.code).toBe(0);
    const token = result.stdout.trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as Record<string, unknown>;
    expect(payload).toMatchObject({ sub: "x", email: "x@example.com", role: "admin" });
    expect(await createAuthenticator({ secret: TEST_AUTH_SECRET }).verify(token)).toEqual({ sub: "x", email: "x@example.com", role: "admin" });

    const customer = await runCli(["token", "--sub", "y", "--email", "y@example.com"], env);
    expect(await createAuthenticator({ secret: TEST_AUTH_SECRET }).verify(customer.stdout.trim())).toMatchObject({ role: "customer" });
  });

  test("when --email is missing, then it exits non-zero saying what it needs", async () => {
    const result = await runCli(["token", "--sub", "x"], testEnv(database, prefix));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("--email");
  });
});

describe("seeding the demo catalog", () => {
  const DEMO_SKUS = DEMO_CATALOG.map((p) => p.sku).sort();
  const DEFAULT_SECRET_WARNING = /AUTH_SECRET is the built-in development secret/;

  /** An empty database and its own AMQP prefix (the seed's events must not reach the other tests' shops). */
  async function emptyShopEnv(label: string, extra: Record<string, string>) {
    const fresh = await createTestDatabase(label);
    const ownPrefix = testPrefix(label);
    cleanups.push(() => fresh.drop(), () => deleteBrokerObjects(ownPrefix, [...MODULE_NAMES], TEST_RETRY_DELAYS_MS));
    return { fresh, env: testEnv(fresh, ownPrefix, { LOG_LEVEL: "info", ...extra }) };
  }

  const catalogSkus = async (shop: ShopProcess) => {
    const res = await httpRequest(shop.baseUrl, "/products?limit=100");
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: Array<{ sku: string }> }).items.map((p) => p.sku).sort();
  };

  test(
    "when NODE_ENV=production serves an empty database, then the catalog stays empty; `shop seed` adds the demo catalog on request",
    async () => {
      const { fresh, env } = await emptyShopEnv("seed_production", { NODE_ENV: "production", AUTH_SECRET: TEST_AUTH_SECRET });
      const shop = await spawnShop(env);
      expect(await catalogSkus(shop)).toEqual([]);
      expect(shop.output()).not.toMatch(DEFAULT_SECRET_WARNING);
      expect(await shop.stop()).toBe(0);

      const seeded = await runCli(["seed"], env);
      expect(seeded.code).toBe(0);
      const rows = await query(fresh.url, (sql) => sql<{ sku: string }[]>`select sku from inventory.products order by sku`);
      expect(rows.map((r) => r.sku)).toEqual(DEMO_SKUS);
    },
    60_000,
  );

  test(
    "when NODE_ENV=development serves an empty database with the built-in secret, then the demo catalog is there and it warns about the secret",
    async () => {
      const { env } = await emptyShopEnv("seed_development", { NODE_ENV: "development" });
      const shop = await spawnShop({ ...env, AUTH_SECRET: undefined });
      expect(await catalogSkus(shop)).toEqual(DEMO_SKUS);
      expect(shop.output()).toMatch(DEFAULT_SECRET_WARNING);
      expect(await shop.stop()).toBe(0);
    },
    60_000,
  );
});
