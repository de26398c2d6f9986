/** HTTP to the shop over loopback: one call, polling, a closed-loop pool, and the open-loop scheduler. */
import { aborted, throwIfAborted } from "./context.ts";

const REQUEST_TIMEOUT_MS = 30_000;

export interface Answer {
  status: number; // 0: no HTTP answer (connection error, timeout)
  body: unknown;
  ms: number;
  error?: string;
}

export async function call(baseUrl: string, path: string, init: { method?: string; token?: string; json?: unknown } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.json !== undefined) headers["content-type"] = "application/json";
  const started = performance.now();
  try {
    const res = await fetch(`${baseUrl}${path}`, {
      method: init.method ?? "GET",
      headers,
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
      signal: AbortSignal.any([aborted.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
    });
    const text = await res.text();
    const ms = performance.now() - started;
    let body: unknown = text;
    if ((res.headers.get("content-type") ?? "").includes("json") && text) {
      try {
        body = JSON.parse(text);
      } catch {}
    }
    return { status: res.status, body, ms };
  } catch (error) {
    return { status: 0, body: null, ms: performance.now() - started, error: (error as Error).name };
  }
}

/** Polls `probe` every `intervalMs` until it is true; throws after `timeoutMs`. Resolves with the time it took. */
export async function until(what: string, timeoutMs: number, intervalMs: number, probe: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    throwIfAborted();
    if (await probe()) return performance.now() - started;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(intervalMs);
  }
}

/** Closed loop: `work(i)` for i in [0, count) with `concurrency` in flight; nothing new after `budgetMs`. Returns how many ran. */
export async function pool(count: number, concurrency: number, work: (i: number, worker: number) => Promise<void>, budgetMs = Infinity): Promise<number> {
  const deadline = performance.now() + budgetMs;
  let next = 0;
  let started = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async (_, worker) => {
      for (let i = next++; i < count && !aborted.signal.aborted && performance.now() < deadline; i = next++) {
        started += 1;
        await work(i, worker);
      }
    }),
  );
  return started;
}

/** Closed loop: `work()` with `concurrency` in flight until `seconds` have passed. */
export async function forSeconds(seconds: number, concurrency: number, work: (worker: number) => Promise<void>): Promise<void> {
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline && !aborted.signal.aborted) await work(0);
    }),
  );
}

export interface OpenLoopRun {
  /** performance.now() of arrival 0. */
  t0: number;
  sent: number;
  /** performance.now() when the last request was sent. */
  sendEndedAt: number;
  /** How late each request was sent after its scheduled time (ms): the generator's own lag. */
  sendLagMs: number[];
  /** Resolves when every request sent has been answered (or timed out). */
  answered: Promise<void>;
  /** Requests sent and not answered yet. */
  inFlight(): number;
}

/**
 * Open loop: request i is due at t0 + i·1000/rate ms and is sent then whatever the earlier ones are doing;
 * one whose time has passed (the generator was busy) is sent at once. `send` gets the scheduled time so
 * latency counts from it (no coordinated omission). Resolves when the last request has been sent.
 */
export async function openLoop(rate: number, seconds: number, send: (i: number, scheduledAt: number) => Promise<void>): Promise<OpenLoopRun> {
  const total = Math.max(1, Math.round(rate * seconds));
  const interval = 1000 / rate;
  const pending: Promise<void>[] = [];
  const sendLagMs: number[] = [];
  let open = 0;
  const t0 = performance.now();
  let i = 0;
  while (i < total && !aborted.signal.aborted) {
    const now = performance.now();
    for (; i < total && t0 + i * interval <= now; i++) {
      const scheduledAt = t0 + i * interval;
      sendLagMs.push(now - scheduledAt);
      open += 1;
      pending.push(send(i, scheduledAt).finally(() => (open -= 1)));
    }
    if (i < total) await Bun.sleep(Math.max(0, t0 + i * interval - performance.now()));
  }
  return { t0, sent: i, sendEndedAt: performance.now(), sendLagMs, answered: Promise.all(pending).then(() => {}), inFlight: () => open };
}
