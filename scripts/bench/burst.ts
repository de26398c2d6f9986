/**
 * Burst: --orders POST /orders with --concurrency in flight (closed loop), then the saga: wait until no
 * order is pending and the system has drained (outboxes sent, queues empty). The cost window runs from the
 * first POST to the drain, so CPU per order covers the whole saga of every order.
 */
import { throwIfAborted } from "./context.ts";
import { isDrained } from "./backlog.ts";
import { call, pool } from "./http.ts";
import type { Options } from "./options.ts";
import { confirmations, confirmRate, listOrders, type Accepted } from "./orders.ts";
import { startMeter, type PhaseCost } from "./phase.ts";
import { orderPlan, type Shop } from "./setup.ts";
import { ms, Recorder, stats, type Stats } from "./stats.ts";

export interface BurstResult {
  orders: number;
  concurrency: number;
  sent: number;
  accepted: number;
  placementS: number;
  acceptedPerS: number;
  /** Not every order was sent: the --placement-seconds budget ran out. */
  cutShort: boolean;
  post: Recorder;
  saga: SagaFigures;
  cost: PhaseCost;
}

export interface SagaFigures {
  timedOut: boolean;
  /** From the last 201 until no order was pending (seen by polling the database every 100 ms), and until drained. */
  allFinalAfterLastMs: number;
  drainedAfterLastMs: number;
  lastConfirmAfterLastMs: number;
  confirmsPerS: number;
  confirmWindowS: number;
  /** From the client's 201 to `confirmed` (updatedAt, version 2). */
  from201: Stats;
  /** From createdAt to updatedAt (server clock only). */
  fromCreate: Stats;
  byStatus: Record<string, number>;
  final: number;
}

/** Polls the backlog until nothing is pending (→ allFinalAt) and everything is drained; bounded. */
async function waitForSaga(shop: Shop, timeoutS: number): Promise<{ allFinalAt: number; drainedAt: number; timedOut: boolean }> {
  const deadline = Date.now() + timeoutS * 1000;
  let allFinalAt = Number.NaN;
  for (;;) {
    throwIfAborted();
    const backlog = await shop.backlog.sample();
    if (Number.isNaN(allFinalAt) && backlog.pendingOrders === 0) allFinalAt = Date.now();
    if (isDrained(backlog)) return { allFinalAt, drainedAt: Date.now(), timedOut: false };
    if (Date.now() > deadline) return { allFinalAt, drainedAt: Number.NaN, timedOut: true };
    await Bun.sleep(100);
  }
}

async function place(shop: Shop, options: Options, accepted: Accepted, post: Recorder) {
  const plans = Array.from({ length: options.orders }, () => orderPlan(shop));
  const placedAt = new Map<string, number>(); // id → client wall-clock ms of the 201
  const sent = await pool(
    options.orders,
    options.concurrency,
    async (i, worker) => {
      const customer = worker % shop.customers.length;
      const res = await call(shop.orders, "/orders", { method: "POST", token: shop.customers[customer]!.token, json: { items: plans[i] } });
      post.record(res);
      if (res.status !== 201) return;
      const id = (res.body as { id: string }).id;
      placedAt.set(id, Date.now());
      accepted.set(id, customer);
    },
    options.placementSeconds * 1000,
  );
  return { sent, placedAt };
}

async function sagaFigures(shop: Shop, placedAt: Map<string, number>, startedWall: number, wait: Awaited<ReturnType<typeof waitForSaga>>): Promise<SagaFigures> {
  const listed = await listOrders(shop, startedWall - 5_000);
  const from201 = confirmations(listed, placedAt);
  const created = new Map(listed.filter((o) => placedAt.has(o.id)).map((o) => [o.id, Date.parse(o.createdAt)]));
  const fromCreate = confirmations(listed, created);
  const lastAccepted = placedAt.size ? [...placedAt.values()].reduce((a, b) => Math.max(a, b)) : Number.NaN;
  const rate = confirmRate(from201.confirmTimes);
  return {
    timedOut: wait.timedOut,
    allFinalAfterLastMs: wait.allFinalAt - lastAccepted,
    drainedAfterLastMs: wait.drainedAt - lastAccepted,
    lastConfirmAfterLastMs: (from201.confirmTimes.at(-1) ?? Number.NaN) - lastAccepted,
    confirmsPerS: rate.perS,
    confirmWindowS: rate.windowS,
    from201: stats(from201.latencies),
    fromCreate: stats(fromCreate.latencies),
    byStatus: Object.fromEntries(from201.byStatus),
    final: from201.final,
  };
}

export async function runBurst(shop: Shop, options: Options, accepted: Accepted): Promise<BurstResult> {
  console.log(`· burst: placing ${options.orders} orders, ${options.concurrency} in flight, ${shop.customers.length} customers…`);
  const post = new Recorder();
  const meter = await startMeter(shop.db, shop.statementsUnavailable === "");
  const startedWall = Date.now();
  const started = performance.now();
  const { sent, placedAt } = await place(shop, options, accepted, post);
  const placementS = (performance.now() - started) / 1000;
  throwIfAborted();
  const wait = await waitForSaga(shop, options.sagaTimeout);
  const cost = await meter.stop("burst", "burst", "order");
  const saga = await sagaFigures(shop, placedAt, startedWall, wait);
  cost.units = saga.final;
  const result = {
    orders: options.orders, concurrency: options.concurrency, sent, accepted: placedAt.size, placementS,
    acceptedPerS: placedAt.size / placementS, cutShort: sent < options.orders, post, saga, cost,
  };
  console.log(
    `  ${result.accepted} accepted in ${placementS.toFixed(2)} s = ${result.acceptedPerS.toFixed(0)}/s; ${post.statusText()}` +
      `${result.cutShort ? ` (stopped by the ${options.placementSeconds} s budget: ${sent} of ${options.orders} sent)` : ""}; ` +
      `all final ${wait.timedOut && Number.isNaN(wait.allFinalAt) ? "NOT REACHED (timeout)" : `${ms(saga.allFinalAfterLastMs)} ms after the last 201`}, ` +
      `drained ${wait.timedOut ? "NOT within the timeout" : `${ms(saga.drainedAfterLastMs)} ms after it`}`,
  );
  return result;
}
