import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MODULE_NAMES } from "./config.ts";
import { deleteBrokerObjects, testPrefix } from "./test-support/broker.ts";
import { createShopDatabases, type ShopDatabases } from "./test-support/database.ts";
import { eventually } from "./test-support/eventually.ts";
import { httpRequest, spawnShop, stopAllProcesses, type ShopProcess } from "./test-support/process.ts";
import { admin, alice, TEST_RETRY_DELAYS_MS, testEnv } from "./test-support/shop.ts";

// The same binary split over two processes (MODULES=orders | MODULES=inventory,notification) against one
// database and one AMQP prefix: the modules only ever talk through RabbitMQ, so the flow must not notice.
let database: ShopDatabases;
let prefix: string;

beforeAll(async () => {
  database = await createShopDatabases("split");
  prefix = testPrefix("split");
});
afterAll(async () => {
  await stopAllProcesses();
  await database?.drop();
  if (prefix) await deleteBrokerObjects(prefix, [...MODULE_NAMES], TEST_RETRY_DELAYS_MS);
});

const start = (modules: string) => spawnShop(testEnv(database, prefix, { MODULES: modules }));

interface Outcome {
  accepted: { status: string; reserved: number; mails: string[] };
  tooMany: { status: string; reserved: number; mails: string[] };
}

/** Where each part of the API lives: the orders API on one process, catalog and notifications on another (or the same). */
interface Topology {
  orders: string;
  inventory: string;
  notification: string;
}

/**
 * One product with 3 in stock; an order of 1 (must be confirmed) and one of 4 (must be rejected).
 * Returns what a user would see afterwards, once both orders are final and their e-mails recorded.
 */
async function runScenario(at: Topology): Promise<Outcome> {
  const sku = `SPLIT-${crypto.randomUUID().slice(0, 8)}`;
  const created = await httpRequest(at.inventory, `/products/${sku}`, {
    method: "PUT",
    as: admin,
    json: { name: `Product ${sku}`, priceCents: 990, currency: "EUR", stock: 3 },
  });
  expect(created.status).toBe(201);

  const place = async (quantity: number) => {
    // The price reaches orders by event, from the other process: 422 (unknown sku) until it has arrived.
    const res = await eventually(() => httpRequest(at.orders, "/orders", { method: "POST", as: alice, json: { items: [{ sku, quantity }] } }), {
      accept: (r) => r.status !== 422,
      what: "orders to know the product's price",
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };
  const settle = async (id: string, reserveProbe: () => Promise<number>) => {
    const order = await eventually(
      async () => (await (await httpRequest(at.orders, `/orders/${id}`, { as: alice })).json()) as { status: string },
      { accept: (o) => o.status !== "pending", what: `order ${id} to leave pending` },
    );
    const mails = await eventually(
      async () =>
        (await (await httpRequest(at.notification, `/notifications?orderId=${id}`, { as: admin })).json()) as {
          items: Array<{ template: string; status: string; to: string }>;
        },
      { accept: (m) => m.items.length > 0 && m.items.every((n) => n.status === "sent"), what: `the e-mail about order ${id}` },
    );
    expect(mails.items.every((m) => m.to === alice.email)).toBe(true);
    return { status: order.status, reserved: await reserveProbe(), mails: mails.items.map((m) => m.template) };
  };
  const reserved = async () => ((await (await httpRequest(at.inventory, `/products/${sku}`, { as: admin })).json()) as { reserved: number }).reserved;

  const acceptedId = await place(1);
  const accepted = await settle(acceptedId, reserved);
  const tooManyId = await place(4);
  const tooMany = await settle(tooManyId, reserved);
  return { accepted, tooMany };
}

const EXPECTED: Outcome = {
  accepted: { status: "confirmed", reserved: 1, mails: ["order-confirmed"] },
  tooMany: { status: "rejected", reserved: 1, mails: ["order-rejected"] },
};

describe("split into two processes", () => {
  let ordersProcess: ShopProcess;
  let catalogProcess: ShopProcess;

  beforeAll(async () => {
    [ordersProcess, catalogProcess] = await Promise.all([start("orders"), start("inventory,notification")]);
  }, 30_000);
  afterAll(async () => {
    await Promise.all([ordersProcess?.stop(), catalogProcess?.stop()]);
  });

  test("when each process runs only its modules, then each serves only its own routes", async () => {
    const a = ordersProcess.baseUrl;
    const b = catalogProcess.baseUrl;
    expect((await httpRequest(a, "/products")).status).toBe(404);
    expect((await httpRequest(a, "/notifications", { as: admin })).status).toBe(404);
    expect((await httpRequest(b, "/orders", { method: "POST", as: alice, json: { items: [{ sku: "X", quantity: 1 }] } })).status).toBe(404);
    expect((await httpRequest(b, "/orders", { as: alice })).status).toBe(404);
    // And each serves what it owns.
    expect((await httpRequest(a, "/orders", { as: alice })).status).toBe(200);
    expect((await httpRequest(b, "/products")).status).toBe(200);
    for (const url of [a, b]) {
      await eventually(
        async () => {
          const res = await httpRequest(url, "/health/ready");
          return { status: res.status, body: (await res.json()) as { status: string } };
        },
        { accept: (r) => r.status === 200 && r.body.status === "ok", what: `${url} to be ready` },
      );
    }
  });

  test(
    "when a product is created on the inventory process and ordered on the orders process, then the order is confirmed, stock reserved and mailed, and an order above stock is rejected",
    async () => {
      const outcome = await runScenario({
        orders: ordersProcess.baseUrl,
        inventory: catalogProcess.baseUrl,
        notification: catalogProcess.baseUrl,
      });
      expect(outcome).toEqual(EXPECTED);
    },
    45_000,
  );
});

describe("all modules in one process", () => {
  let shop: ShopProcess;

  beforeAll(async () => {
    shop = await start("orders,inventory,notification");
  }, 30_000);
  afterAll(async () => {
    await shop?.stop();
  });

  test(
    "when the same scenario runs in one process with all three modules, then the outcome is identical to the split one",
    async () => {
      const outcome = await runScenario({ orders: shop.baseUrl, inventory: shop.baseUrl, notification: shop.baseUrl });
      expect(outcome).toEqual(EXPECTED);
    },
    45_000,
  );
});
