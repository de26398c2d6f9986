import { on, onBatch, type EventHandler } from "../../src/platform/messaging/handler.ts";
import { OrderCancelled, OrderPlaced, OrderShipped } from "../orders/contract.ts";
import { consumeStock } from "./application/consume-stock.ts";
import { releaseStock } from "./application/release-stock.ts";
import { reserveStock } from "./application/reserve-stock.ts";
import type { InventoryDeps } from "./ports.ts";

/** What inventory does with each event it consumes: one use case per event, called as `(deps, data | items, ctx)`. */
export function inventoryHandlers(deps: InventoryDeps): EventHandler[] {
  return [
    onBatch(OrderPlaced, (items, ctx) => reserveStock(deps, items, ctx)),
    on(OrderCancelled, (data, ctx) => releaseStock(deps, data, ctx)),
    on(OrderShipped, (data, ctx) => consumeStock(deps, data, ctx)),
  ];
}
