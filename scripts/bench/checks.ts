/** The consistency checks at the end: every accepted order final, and reserved stock = units of confirmed orders. */
import { call, pool } from "./http.ts";
import { listOrders, type Accepted } from "./orders.ts";
import type { Shop } from "./setup.ts";

export interface Checks {
  accepted: number;
  listed: number;
  confirmed: number;
  rejected: number;
  byStatus: Record<string, number>;
  /** Accepted orders the listing did not show. */
  missing: number;
  countsOk: boolean;
  reserved: number;
  confirmedUnits: number;
  stockMismatches: string[];
  stockOk: boolean;
}

async function reservedStock(shop: Shop): Promise<Map<string, number>> {
  const reserved = new Map<string, number>();
  await pool(shop.skus.length, 8, async (i) => {
    const sku = shop.skus[i]!;
    const res = await call(shop.inventory, `/products/${sku}`, { token: shop.adminToken });
    if (res.status !== 200) throw new Error(`GET /products/${sku} answered ${res.status}`);
    reserved.set(sku, (res.body as { reserved: number }).reserved);
  });
  return reserved;
}

export async function checkConsistency(shop: Shop, accepted: Accepted): Promise<Checks> {
  const all = await listOrders(shop);
  const byStatus: Record<string, number> = {};
  const confirmedUnits = new Map<string, number>();
  for (const order of all) {
    byStatus[order.status] = (byStatus[order.status] ?? 0) + 1;
    if (order.status !== "confirmed") continue;
    for (const item of order.items) confirmedUnits.set(item.sku, (confirmedUnits.get(item.sku) ?? 0) + item.quantity);
  }
  const listedIds = new Set(all.map((o) => o.id));
  const missing = [...accepted.keys()].filter((id) => !listedIds.has(id)).length;
  const reserved = await reservedStock(shop);
  const stockMismatches = shop.skus.filter((sku) => (reserved.get(sku) ?? 0) !== (confirmedUnits.get(sku) ?? 0));
  const confirmed = byStatus.confirmed ?? 0;
  const rejected = byStatus.rejected ?? 0;
  const acceptedTotal = accepted.size + shop.warmupOrders;
  const totalReserved = [...reserved.values()].reduce((a, b) => a + b, 0);
  const totalUnits = [...confirmedUnits.values()].reduce((a, b) => a + b, 0);
  return {
    accepted: acceptedTotal,
    listed: all.length,
    confirmed,
    rejected,
    byStatus,
    missing,
    countsOk: confirmed + rejected === acceptedTotal && all.length === acceptedTotal && missing === 0,
    reserved: totalReserved,
    confirmedUnits: totalUnits,
    stockMismatches,
    stockOk: stockMismatches.length === 0 && totalReserved === totalUnits,
  };
}
