import { describe, expect, test } from "bun:test";
import { healthRoutes } from "./health.ts";

const get = (app: ReturnType<typeof healthRoutes>, path: string) => app.handle(new Request(`http://localhost${path}`));

describe("health", () => {
  test("when the process runs, then /health/live answers 200 ok", async () => {
    const res = await get(healthRoutes({ postgres: () => false }), "/health/live");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  test("when every check passes, then /health/ready answers 200 with each up", async () => {
    const res = await get(healthRoutes({ postgres: async () => true, rabbitmq: () => true }), "/health/ready");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", checks: { postgres: "up", rabbitmq: "up" } });
  });

  test("when a check fails, throws or hangs, then 503 naming what is down", async () => {
    const app = healthRoutes(
      {
        postgres: async () => {
          throw new Error("ECONNREFUSED");
        },
        rabbitmq: () => false,
        search: () => new Promise<boolean>(() => {}),
        cache: async () => true,
      },
      { timeoutMs: 50 },
    );
    const started = performance.now();
    const res = await get(app, "/health/ready");
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      status: "unavailable",
      checks: { postgres: "down", rabbitmq: "down", search: "down", cache: "up" },
    });
  });

  // As the shop wires it: RabbitMQ degrades, a consumer needs RabbitMQ, PostgreSQL is required.
  const shopChecks = (up: { postgres: boolean; rabbitmq: boolean; consumer: boolean }, consumerWhenDown: "unavailable" | "degraded" = "unavailable") =>
    healthRoutes({
      postgres: () => up.postgres,
      rabbitmq: { check: () => up.rabbitmq, whenDown: "degraded" },
      "orders.consumer": { check: () => up.consumer, whenDown: consumerWhenDown, needs: "rabbitmq" },
    });

  test("when only a degrading check is down, then 200 degraded naming it", async () => {
    const res = await get(shopChecks({ postgres: true, rabbitmq: false, consumer: false }), "/health/ready");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "degraded", checks: { postgres: "up", rabbitmq: "down", "orders.consumer": "down" } });
  });

  test("when a consumer is down while what it needs is up, then 503; configured to degrade, then 200 degraded", async () => {
    const down = { postgres: true, rabbitmq: true, consumer: false };
    const required = await get(shopChecks(down), "/health/ready");
    expect(required.status).toBe(503);
    expect(await required.json()).toEqual({ status: "unavailable", checks: { postgres: "up", rabbitmq: "up", "orders.consumer": "down" } });
    const degrading = await get(shopChecks(down, "degraded"), "/health/ready");
    expect(degrading.status).toBe(200);
    expect(await degrading.json()).toEqual({ status: "degraded", checks: { postgres: "up", rabbitmq: "up", "orders.consumer": "down" } });
  });

  test("when a required check is down alongside a degrading one, then 503", async () => {
    const res = await get(shopChecks({ postgres: false, rabbitmq: false, consumer: false }), "/health/ready");
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: "unavailable", checks: { postgres: "down", rabbitmq: "down", "orders.consumer": "down" } });
  });
});
