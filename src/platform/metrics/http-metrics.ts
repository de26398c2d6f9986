import { Counter, Histogram, type Registry } from "prom-client";

/** The route label of a request that matched no route: raw paths would make a series per probe of a scanner. */
export const UNMATCHED_ROUTE = "unmatched";

export interface HttpMetrics {
  /** One answered request: its route template (`/orders/:id`; undefined when none matched), method, status and duration. */
  record(route: string | undefined, method: string, status: number, seconds: number): void;
}

/** Requests by route template, method and status, and their latency, in `registry`. */
export function httpMetrics(registry: Registry): HttpMetrics {
  const requests = new Counter({
    name: "shop_http_requests_total",
    help: "HTTP requests answered, by route template (unmatched: no route), method and status.",
    labelNames: ["route", "method", "status"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "shop_http_request_duration_seconds",
    help: "Time from receiving an HTTP request to having answered it, by route template and method.",
    labelNames: ["route", "method"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  // The labelled series of each route, method and status, found once: a request then costs a map lookup and two adds.
  const series = new Map<string, { count: ReturnType<typeof requests.labels>; time: ReturnType<typeof duration.labels> }>();
  return {
    record(route, method, status, seconds) {
      const label = route || UNMATCHED_ROUTE;
      const key = `${method} ${status} ${label}`;
      let found = series.get(key);
      if (!found) {
        found = { count: requests.labels({ route: label, method, status: String(status) }), time: duration.labels({ route: label, method }) };
        series.set(key, found);
      }
      found.count.inc();
      found.time.observe(seconds);
    },
  };
}
