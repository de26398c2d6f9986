import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TEST_AMQP_URL } from "./test-support/broker.ts";
import { eventually } from "./test-support/eventually.ts";
import { startTestShop, type TestShop } from "./test-support/shop.ts";
import { TcpProxy } from "./test-support/tcp-proxy.ts";

// /health/ready as a load balancer reads it, from a whole shop: RabbitMQ away degrades, a module that stops
// consuming while RabbitMQ is up takes the instance out (unless READY_REQUIRES_CONSUMERS=false).
let proxy: TcpProxy;
let shop: TestShop;
let lenient: TestShop;

beforeAll(async () => {
  const broker = new URL(TEST_AMQP_URL);
  proxy = await new TcpProxy(broker.hostname, Number(broker.port || 5672)).start();
  broker.port = String(proxy.port);
  shop = await startTestShop("ready", { AMQP_URL: broker.toString() });
  lenient = await startTestShop("ready_lenient", { READY_REQUIRES_CONSUMERS: "false" });
});
afterAll(async () => {
  proxy?.restore();
  await shop?.close();
  await lenient?.close();
  await proxy?.stop();
});

type Readiness = { code: number; body: { status: string; checks: Record<string, string> } };
async function readiness(of: TestShop): Promise<Readiness> {
  const res = await of.request("/health/ready");
  return { code: res.status, body: (await res.json()) as Readiness["body"] };
}
const consumers = (state: "up" | "down") => ({ "orders.consumer": state, "inventory.consumer": state, "notification.consumer": state });

describe("readiness", () => {
  test("when RabbitMQ goes away, then the instance stays ready (200) but says degraded and names rabbitmq and the consumers down; back to ok when it returns", async () => {
    await eventually(() => readiness(shop), { accept: (r) => r.body.status === "ok", what: "the shop to be ready" });
    proxy.down();
    const down = await eventually(() => readiness(shop), { accept: (r) => r.body.checks.rabbitmq === "down", what: "readiness to see RabbitMQ down" });
    expect(down).toEqual({ code: 200, body: { status: "degraded", checks: { postgres: "up", rabbitmq: "down", ...consumers("down") } } });
    proxy.restore();
    const back = await eventually(() => readiness(shop), { accept: (r) => r.body.status === "ok", what: "readiness once RabbitMQ is back", timeoutMs: 20_000 });
    expect(back).toEqual({ code: 200, body: { status: "ok", checks: { postgres: "up", rabbitmq: "up", ...consumers("up") } } });
  });

  test("when a module stops consuming its queue while RabbitMQ is up, then 503 naming that module's consumer", async () => {
    await shop.shop.broker.stopConsuming(shop.shop.broker.names.queue("inventory"));
    expect(await readiness(shop)).toEqual({
      code: 503,
      body: { status: "unavailable", checks: { postgres: "up", rabbitmq: "up", ...consumers("up"), "inventory.consumer": "down" } },
    });
  });

  test("when READY_REQUIRES_CONSUMERS=false and a module stops consuming, then 200 degraded naming that module's consumer", async () => {
    await eventually(() => readiness(lenient), { accept: (r) => r.body.status === "ok", what: "the shop to be ready" });
    await lenient.shop.broker.stopConsuming(lenient.shop.broker.names.queue("notification"));
    expect(await readiness(lenient)).toEqual({
      code: 200,
      body: { status: "degraded", checks: { postgres: "up", rabbitmq: "up", ...consumers("up"), "notification.consumer": "down" } },
    });
  });
});
