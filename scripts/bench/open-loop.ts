/**
 * Open loop: orders arrive at fixed times (i·1000/rate ms after the start) whatever the shop answers, for
 * `seconds`. POST latency and place→confirmed both count from the scheduled send (no coordinated omission).
 * The backlog is sampled at the start and at the end of the sending window; then the run waits (bounded)
 * for the system to drain, and reads every order's confirmation time back (updatedAt at version 2).
 */
import { throwIfAborted } from "./context.ts";
import { backlogText, growthThreshold, grown, isDrained, type Backlog } from "./backlog.ts";
import { call, openLoop, type OpenLoopRun } from "./http.ts";
import { confirmations, listOrders, statusText, type Accepted } from "./orders.ts";
import { startMeter, type PhaseCost } from "./phase.ts";
import { orderPlan, type Shop } from "./setup.ts";
import { ms, Recorder, stats, type Stats } from "./stats.ts";

export interface StepSettings {
  label: string;
  kind: "open-loop" | "step";
  rate: number;
  seconds: number;
  /** Longest wait for the drain after the sending window. */
  drainTimeoutS: number;
  backlogSeconds: number;
  sloMs: number;
}

export interface StepResult {
  label: string;
  rate: number;
  seconds: number;
  sent: number;
  achievedRate: number;
  /** How late the generator sent requests after their scheduled time. */
  sendLag: Stats;
  /** POST /orders latency from the scheduled send, and statuses. */
  post: Recorder;
  errors: number;
  /** Place (scheduled send) → confirmed, per accepted order; Infinity for one not confirmed. */
  confirm: Stats;
  unconfirmed: number;
  byStatus: Record<string, number>;
  backlogStart: Backlog;
  backlogEnd: Backlog;
  threshold: number;
  /** Measures that grew beyond the threshold ("" when none). */
  grew: string;
  drained: boolean;
  drainMs: number;
  cost: PhaseCost;
  pass: boolean;
  /** Why it failed ("" when it passed). */
  verdict: string;
}

function sender(shop: Shop, accepted: Accepted, post: Recorder, placedAt: Map<string, number>) {
  return async (i: number, scheduledAt: number) => {
    const customer = i % shop.customers.length;
    const items = orderPlan(shop);
    const res = await call(shop.orders, "/orders", { method: "POST", token: shop.customers[customer]!.token, json: { items } });
    post.record(res, performance.now() - scheduledAt);
    if (res.status !== 201) return;
    const id = (res.body as { id: string }).id;
    placedAt.set(id, performance.timeOrigin + scheduledAt);
    accepted.set(id, customer);
  };
}

/** Polls the backlog until drained; bounded. Resolves with how long it took, or NaN. */
async function waitForDrain(shop: Shop, run: OpenLoopRun, timeoutS: number): Promise<number> {
  const started = performance.now();
  const deadline = started + timeoutS * 1000;
  for (;;) {
    throwIfAborted();
    if (isDrained(await shop.backlog.sample(run.inFlight()))) return performance.now() - started;
    if (performance.now() > deadline) return Number.NaN;
    await Bun.sleep(100);
  }
}

function verdictOf(s: Pick<StepResult, "confirm" | "grew" | "errors" | "drained">, sloMs: number): string {
  const reasons: string[] = [];
  if (!(s.confirm.p99 < sloMs)) reasons.push(`p99 ${ms(s.confirm.p99)} ≥ ${sloMs} ms`);
  if (s.grew) reasons.push(`backlog grew (${s.grew})`);
  if (s.errors > 0) reasons.push(`${s.errors} errors`);
  if (!s.drained) reasons.push("not drained");
  return reasons.join("; ");
}

export async function runOpenLoop(shop: Shop, accepted: Accepted, settings: StepSettings): Promise<StepResult> {
  const { rate, seconds } = settings;
  const post = new Recorder();
  const placedAt = new Map<string, number>();
  const backlogStart = await shop.backlog.sample();
  const meter = await startMeter(shop.db, shop.statementsUnavailable === "");
  const run = await openLoop(rate, seconds, sender(shop, accepted, post, placedAt));
  const backlogEnd = await shop.backlog.sample(run.inFlight());
  await run.answered;
  throwIfAborted();
  const drainMs = await waitForDrain(shop, run, settings.drainTimeoutS);
  const cost = await meter.stop(settings.label, settings.kind, "order");
  const listed = await listOrders(shop, performance.timeOrigin + run.t0 - 5_000);
  const confirmed = confirmations(listed, placedAt);
  cost.units = confirmed.final;
  const threshold = growthThreshold(rate, settings.backlogSeconds);
  const partial = {
    label: settings.label, rate, seconds, sent: run.sent,
    achievedRate: run.sent / ((run.sendEndedAt - run.t0) / 1000 + 1 / rate),
    sendLag: stats(run.sendLagMs), post, errors: post.errors(201),
    confirm: stats(confirmed.latencies), unconfirmed: confirmed.latencies.filter((l) => l === Number.POSITIVE_INFINITY).length,
    byStatus: Object.fromEntries(confirmed.byStatus), backlogStart, backlogEnd, threshold,
    grew: grown(backlogStart, backlogEnd, threshold), drained: !Number.isNaN(drainMs), drainMs, cost,
  };
  const verdict = verdictOf(partial, settings.sloMs);
  return { ...partial, pass: verdict === "", verdict };
}

export function stepLine(s: StepResult): string {
  return (
    `${s.label} — achieved ${s.achievedRate.toFixed(0)}/s, POST p50 ${ms(s.post.toJSON().stats.p50)} p99 ${ms(s.post.toJSON().stats.p99)} ms, ` +
    `place→confirmed p50 ${ms(s.confirm.p50)} p99 ${ms(s.confirm.p99)} ms, backlog at end ${backlogText(s.backlogEnd)}, ` +
    `${s.drained ? `drained in ${ms(s.drainMs)} ms` : "NOT drained"}; ${statusText(new Map(Object.entries(s.byStatus)))} → ${s.pass ? "pass" : `fail: ${s.verdict}`}`
  );
}
