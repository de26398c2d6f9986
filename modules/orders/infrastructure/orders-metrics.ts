import type { ModuleMetrics } from "../../../src/platform/metrics/module-metrics.ts";
import type { OrdersMetrics } from "../ports.ts";

/** orders' metrics, as `shop_orders_*` (docs/operations.md). */
export function ordersMetrics(metrics: ModuleMetrics): OrdersMetrics {
  return {
    placed: metrics.counter("placed_total", "Orders placed: stored as pending with their event (an idempotent replay is not counted again)."),
    confirmed: metrics.counter("confirmed_total", "Orders confirmed after inventory reserved their stock."),
    rejected: metrics.counter("rejected_total", "Orders rejected because inventory could not reserve their stock."),
    cancelled: metrics.counter("cancelled_total", "Orders cancelled by their customer or an admin."),
    shipped: metrics.counter("shipped_total", "Orders shipped by an admin."),
    confirmationSeconds: metrics.histogram(
      "confirmation_seconds",
      "Time from an order's placement (its created_at) to its confirmation being committed.",
      [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    ),
  };
}
