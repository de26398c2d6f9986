import type postgres from "postgres";
import type { Principal } from "../platform/http/principal.ts";
import { eventually } from "./eventually.ts";
import { httpRequest } from "./process.ts";
import { admin } from "./shop.ts";

// A stream of POST /orders against a running shop, recording every answer, for the fault suite
// (src/faults/): it tells which orders were accepted (201) and when each answer came, so a test can
// hold the shop to every one of them after a fault.

export type Line = { sku: string; quantity: number };

/** One POST /orders: when it was sent and answered, and the answer (an HTTP status or the error's name). */
export interface OrderAttempt {
  index: number;
  startedAt: number;
  endedAt: number;
  status: number | string;
  orderId?: string;
  /** The start of a non-201 body, for failure messages. */
  body?: string;
}

export interface LoadReport {
  attempts: OrderAttempt[];
  /** Ids of the orders answered 201, in answer order. */
  accepted: string[];
  /** How many attempts ended with each status ("201", "503", "ConnectionRefused", ...). */
  statuses: Record<string, number>;
}

export interface OrderLoad {
  /** Live: grows while the load runs. */
  report: LoadReport;
  /** Resolves when `count` orders were attempted (or the load was stopped). */
  done: Promise<LoadReport>;
  /** Lets the requests in flight finish, sends no more, resolves with the report. */
  stop(): Promise<LoadReport>;
  /** Waits until at least `n` attempts have been answered. */
  answered(n: number, timeoutMs?: number): Promise<void>;
}

export interface LoadOptions {
  baseUrl: string;
  count: number;
  concurrency: number;
  customers: Principal[];
  skus: string[];
  /** Pause of each worker between two of its requests, to spread the load over time. */
  pauseMs?: number;
  /** The lines of the i-th order; by default one or two lines of 1–3 units over `skus`. */
  lines?: (index: number, skus: string[]) => Line[];
}

/** The default mix: single- and two-line orders of 1–3 units, spread over every sku. */
export function defaultLines(index: number, skus: string[]): Line[] {
  const first = skus[index % skus.length]!;
  const lines: Line[] = [{ sku: first, quantity: 1 + (index % 3) }];
  const second = skus[(index + 1) % skus.length]!;
  if (index % 4 === 3 && second !== first) lines.push({ sku: second, quantity: 1 });
  return lines;
}

/** Starts placing `count` orders with `concurrency` workers; never throws (errors are recorded). */
export function placeOrders(options: LoadOptions): OrderLoad {
  const { baseUrl, count, concurrency, customers, skus, pauseMs = 0, lines = defaultLines } = options;
  const report: LoadReport = { attempts: [], accepted: [], statuses: {} };
  let next = 0;
  let stopped = false;

  const placeOne = async (index: number) => {
    const startedAt = performance.now();
    const attempt: OrderAttempt = { index, startedAt, endedAt: startedAt, status: "pending" };
    try {
      const res = await httpRequest(baseUrl, "/orders", { method: "POST", as: customers[index % customers.length]!, json: { items: lines(index, skus) } });
      attempt.status = res.status;
      if (res.status === 201) attempt.orderId = ((await res.json()) as { id: string }).id;
      else attempt.body = (await res.text()).slice(0, 300);
    } catch (error) {
      // No answer at all: name it by what happened to the connection (ECONNREFUSED, ECONNRESET, TimeoutError, ...).
      const e = error as Error & { code?: string };
      attempt.status = e.code ?? (e.name === "Error" ? e.message.slice(0, 80) : e.name);
    }
    attempt.endedAt = performance.now();
    report.attempts.push(attempt);
    report.statuses[String(attempt.status)] = (report.statuses[String(attempt.status)] ?? 0) + 1;
    if (attempt.orderId) report.accepted.push(attempt.orderId);
  };

  const worker = async () => {
    while (!stopped && next < count) {
      await placeOne(next++);
      if (pauseMs > 0) await Bun.sleep(pauseMs);
    }
  };
  const done = Promise.all(Array.from({ length: concurrency }, worker)).then(() => report);

  return {
    report,
    done,
    stop() {
      stopped = true;
      return done;
    },
    async answered(n, timeoutMs = 20_000) {
      await eventually(() => report.attempts.length >= n || next >= count, { timeoutMs, intervalMs: 10, what: `${n} answers to POST /orders` });
    },
  };
}

/** Every report's answers added up: `{ "201": 80, "ECONNRESET": 3, ... }`. */
export function answers(reports: LoadReport[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const report of reports) for (const [status, n] of Object.entries(report.statuses)) total[status] = (total[status] ?? 0) + n;
  return total;
}

/** The attempts sent while `window` was open (between two performance.now() readings). */
export function attemptsDuring(report: LoadReport, window: { from: number; to: number }): OrderAttempt[] {
  return report.attempts.filter((a) => a.startedAt >= window.from && a.startedAt <= window.to);
}

export interface Changes {
  shipped: string[];
  cancelled: string[];
  /** HTTP statuses of the ship and cancel requests. */
  answers: Record<string, number>;
}

/**
 * As an admin, ships `ship` and cancels `cancel` of the orders among `ids` that are confirmed now — so that
 * order-shipped and order-cancelled events travel through the fault too. Every request must answer 200.
 */
export async function shipAndCancel(baseUrl: string, sql: postgres.Sql, ids: string[], counts: { ship: number; cancel: number }): Promise<Changes> {
  const confirmed = (await sql<{ id: string }[]>`
    select id::text from orders.orders where id = any(${ids}::uuid[]) and status = 'confirmed' order by id`).map((r) => r.id);
  const changes: Changes = { shipped: [], cancelled: [], answers: {} };
  const act = async (id: string, action: "ship" | "cancel") => {
    const res = await httpRequest(baseUrl, `/orders/${id}/${action}`, { method: "POST", as: admin });
    await res.body?.cancel();
    changes.answers[String(res.status)] = (changes.answers[String(res.status)] ?? 0) + 1;
    if (res.status === 200) (action === "ship" ? changes.shipped : changes.cancelled).push(id);
  };
  await Promise.all([
    ...confirmed.slice(0, counts.ship).map((id) => act(id, "ship")),
    ...confirmed.slice(counts.ship, counts.ship + counts.cancel).map((id) => act(id, "cancel")),
  ]);
  return changes;
}
