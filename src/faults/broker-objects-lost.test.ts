import { AMQPClient, type AMQPChannel } from "@cloudamqp/amqp-client";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TEST_AMQP_URL } from "../test-support/broker.ts";
import { commerce, json, newCustomer, newSku } from "../test-support/commerce.ts";
import { eventually } from "../test-support/eventually.ts";
import { startTestShop, type TestShop } from "../test-support/shop.ts";

// The connection to RabbitMQ stays up, but something below it goes away: a module's queue is deleted (its
// consumer is cancelled by the broker), or the events exchange is deleted (the next publish closes the
// confirm channel). The shop must notice, say so in readiness, and put back what it needs by itself.
let shop: TestShop;
let c: ReturnType<typeof commerce>;
let operator: AMQPClient;
const customer = newCustomer("lost");

beforeAll(async () => {
  shop = await startTestShop("broker_lost");
  c = commerce(shop);
  operator = new AMQPClient(TEST_AMQP_URL, undefined, null);
  await operator.connect();
});
afterAll(async () => {
  await operator?.close().catch(() => {});
  await shop?.close();
});

type Readiness = { status: number; checks: Record<string, string> };
async function readiness(): Promise<Readiness> {
  const res = await shop.request("/health/ready");
  return { status: res.status, checks: (await json<{ checks: Record<string, string> }>(res)).checks };
}

/** Runs one broker operation on a channel of its own (a failed one closes its channel). */
async function onChannel<T>(work: (ch: AMQPChannel) => Promise<T>): Promise<T> {
  const ch = await operator.channel();
  try {
    return await work(ch);
  } finally {
    if (!ch.closed) await ch.close().catch(() => {});
  }
}

const queueExists = (queue: string) =>
  onChannel((ch) => ch.queueDeclare(queue, { passive: true })).then(
    () => true,
    () => false,
  );

describe("a module's queue deleted while the connection stays up", () => {
  test("when inventory's queue is deleted and cannot be declared again at first, then readiness names inventory's consumer as down until the shop has declared the queue again and consumes it, and orders are confirmed again", async () => {
    const sku = newSku("LOST");
    await c.createProduct(sku, 100);
    await c.confirmedOrder(customer, [{ sku, quantity: 1 }]);
    expect(await readiness()).toEqual({
      status: 200,
      checks: expect.objectContaining({ rabbitmq: "up", "inventory.consumer": "up", "orders.consumer": "up", "notification.consumer": "up" }),
    });

    const queue = shop.shop.broker.names.queue("inventory");
    await onChannel((ch) => ch.queueDelete(queue));
    // An impostor with other arguments: the shop's re-declaration is refused (406) while it exists.
    await onChannel((ch) => ch.queueDeclare(queue, { durable: false, autoDelete: false }));

    const down = await eventually(readiness, {
      accept: (r) => r.checks["inventory.consumer"] === "down",
      what: "readiness to report inventory's consumer as down",
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    expect(down.status).toBe(503);
    expect(down.checks).toMatchObject({ rabbitmq: "up", "orders.consumer": "up", "notification.consumer": "up" });

    await onChannel((ch) => ch.queueDelete(queue));
    await eventually(readiness, {
      accept: (r) => r.status === 200 && r.checks["inventory.consumer"] === "up",
      what: "inventory's consumer to be up again",
      timeoutMs: 15_000,
    });
    expect(await queueExists(queue)).toBe(true);

    const order = await c.placeOk(customer, [{ sku, quantity: 2 }]);
    expect((await c.orderEventually(order.id, "confirmed")).status).toBe("confirmed");
  });
});

describe("the events exchange deleted while the connection stays up", () => {
  test("when the events exchange is deleted, then the publish that finds it gone closes the confirm channel, the shop declares the exchange and its bindings again, re-opens the channel, and the order is confirmed", async () => {
    const sku = newSku("GONE");
    await c.createProduct(sku, 100);
    await c.confirmedOrder(customer, [{ sku, quantity: 1 }]);

    await onChannel((ch) => ch.exchangeDelete(shop.shop.broker.names.events));
    // Deleting an exchange also deletes its bindings: every module's queue is now cut off from the events.
    const order = await c.placeOk(customer, [{ sku, quantity: 3 }]);

    expect((await c.orderEventually(order.id, "confirmed")).status).toBe("confirmed");
    await c.expectMails(order.id, ["order-confirmed"], customer.email);
    const ready = await eventually(readiness, { accept: (r) => r.status === 200, what: "readiness to be ok again" });
    expect(ready.checks.rabbitmq).toBe("up");
  });
});
