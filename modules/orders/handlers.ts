import { on, onBatch, type EventHandler } from "../../src/platform/messaging/handler.ts";
import { ProductUpserted, StockRejected, StockReserved } from "../inventory/contract.ts";
import { confirmOrders } from "./application/confirm-order.ts";
import { recordCatalogEntry } from "./application/record-catalog-entry.ts";
import { rejectOrders } from "./application/reject-order.ts";
import type { OrdersDeps } from "./ports.ts";

/** What orders does with each event it consumes: one use case per event, called as `(deps, data | items, ctx)`. */
export function ordersHandlers(deps: OrdersDeps): EventHandler[] {
  return [
    on(ProductUpserted, (data, ctx) => recordCatalogEntry(deps, data, ctx)),
    onBatch(StockReserved, (items, ctx) => confirmOrders(deps, items, ctx)),
    onBatch(StockRejected, (items, ctx) => rejectOrders(deps, items, ctx)),
  ];
}
