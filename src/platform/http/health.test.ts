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
});
