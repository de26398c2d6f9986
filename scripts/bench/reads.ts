/** Reads: GET /products, then GET /orders/:id of an accepted order (as its owner), closed loop, each for --read-seconds. */
import { call, forSeconds } from "./http.ts";
import type { Options } from "./options.ts";
import type { Accepted } from "./orders.ts";
import { startMeter, type PhaseCost } from "./phase.ts";
import type { Shop } from "./setup.ts";
import { Recorder } from "./stats.ts";

export interface ReadResult {
  name: string;
  requests: Recorder;
  okPerS: number;
  cost: PhaseCost;
}

async function readPhase(shop: Shop, options: Options, name: string, request: () => Promise<void>, requests: Recorder): Promise<ReadResult> {
  const meter = await startMeter(shop.db, shop.statementsUnavailable === "");
  await forSeconds(options.readSeconds, options.readConcurrency, request);
  const cost = await meter.stop(name, "read", "request");
  cost.units = requests.count(200);
  return { name, requests, okPerS: requests.count(200) / cost.wallS, cost };
}

export async function runReads(shop: Shop, options: Options, accepted: Accepted): Promise<ReadResult[]> {
  console.log(`· reads: GET /products, then GET /orders/:id, ${options.readConcurrency} in flight, ${options.readSeconds} s each…`);
  const products = new Recorder();
  const productsResult = await readPhase(shop, options, "GET /products", async () => products.record(await call(shop.inventory, "/products")), products);
  const ids = [...accepted.entries()];
  const orders = new Recorder();
  const ordersResult = await readPhase(
    shop,
    options,
    "GET /orders/:id",
    async () => {
      if (ids.length === 0) return void (await Bun.sleep(10));
      const [id, customer] = ids[Math.floor(Math.random() * ids.length)]!;
      orders.record(await call(shop.orders, `/orders/${id}`, { token: shop.customers[customer]!.token }));
    },
    orders,
  );
  return [productsResult, ordersResult];
}
