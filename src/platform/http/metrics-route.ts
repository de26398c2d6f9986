import { Elysia } from "elysia";
import type { Registry } from "prom-client";

/** `GET /metrics`: the process's metrics in the Prometheus text format, for Prometheus to scrape. */
export function metricsRoute(registry: Registry) {
  return new Elysia({ name: "platform.metrics", detail: { tags: ["health"] } }).get(
    "/metrics",
    async () => new Response(await registry.metrics(), { headers: { "content-type": registry.contentType } }),
    { detail: { summary: "Metrics in the Prometheus text format (docs/operations.md lists them)" } },
  );
}
