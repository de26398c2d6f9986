import type { ModuleMetrics } from "../../../src/platform/metrics/module-metrics.ts";
import type { InventoryMetrics } from "../ports.ts";

/** inventory's metrics, as `shop_inventory_*` (docs/operations.md). */
export function inventoryMetrics(metrics: ModuleMetrics): InventoryMetrics {
  return {
    reservationsMade: metrics.counter("reservations_made_total", "Placed orders whose every line inventory reserved."),
    reservationsRejected: metrics.counter("reservations_rejected_total", "Placed orders inventory refused for lack of stock (the order is rejected)."),
  };
}
