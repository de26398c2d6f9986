/**
 * Measures the shop as it runs: the real process (or the compiled binary) against the local PostgreSQL and
 * RabbitMQ, loaded over HTTP on loopback. Prints figures; asserts nothing (a failed consistency check is
 * printed as MISMATCH and the exit code is still 0 — only a run that could not be carried out exits 1).
 *
 * What it does, in a throwaway database and under a throwaway AMQP_PREFIX (both removed afterwards, also
 * on failure and Ctrl-C):
 *   setup      starts `bun src/main.ts serve` (or `--binary dist/shop serve`) with PORT=0, LOG_LEVEL=warn,
 *              waits for /health/ready, creates --products products with ample stock through the admin API,
 *              then places one warm-up order per 50 skus until orders knows every price (no more 422) and
 *              waits for those to be final: the whole pipeline works before anything is timed.
 *   placement  --orders POST /orders (1–3 random lines, 1–3 units each) from --customers customers with
 *              --concurrency requests in flight: accepted/s, latency percentiles, status counts.
 *   saga       polls GET /orders?status=pending until it is empty; then pages through every order (admin)
 *              and takes each confirmed order's confirmation time (its `updatedAt`, version 2) to give the
 *              latency from the client's 201 to `confirmed` and the confirmation throughput. Checks that
 *              confirmed + rejected = accepted and that every product's `reserved` equals the units of its
 *              confirmed orders.
 *   reads      GET /products and GET /orders/:id (as the owner), --read-concurrency in flight, --seconds each.
 *   --split    the same with MODULES=orders in one process and MODULES=inventory,notification in another.
 *
 * The load generator runs on the same machine as the shop, PostgreSQL and RabbitMQ: the CPU columns show
 * who used the cores during each phase.
 *
 * Usage: bun scripts/bench.ts [--orders 2000] [--concurrency 32] [--seconds 5] [--products 20]
 *                             [--customers 8] [--read-concurrency 32] [--saga-timeout 60] [--placement-seconds 45] [--split]
 *                             [--binary dist/shop]
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import type { Subprocess } from "bun";
import { MODULE_NAMES } from "../src/config.ts";
import { signToken, type Principal } from "../src/platform/http/auth.ts";
import { deleteBrokerObjects, TEST_AMQP_URL, testPrefix } from "../src/test-support/broker.ts";
import { createTestDatabase, type TestDatabase } from "../src/test-support/database.ts";

const ROOT = resolve(import.meta.dir, "..");
const PG_ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const RETRY_DELAYS_MS = [1000, 5000, 30000]; // the shop's default, passed explicitly so cleanup knows the retry queues
const MAX_LINES_PER_ORDER = 50;
const STOCK_PER_PRODUCT = 1_000_000;
const REQUEST_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------------------------------------- options

const USAGE = `Usage: bun scripts/bench.ts [options]
  --orders N            orders to place (default 2000)
  --concurrency N       POST /orders in flight (default 32)
  --seconds N           duration of each read phase (default 5)
  --products N          products in the catalog (default 20)
  --customers N         distinct customers placing orders (default 8)
  --read-concurrency N  requests in flight in the read phases (default 32)
  --saga-timeout N      seconds to wait for every order to be final (default 60)
  --placement-seconds N no new order after N seconds of placement, however many are left (default 45)
  --split               MODULES=orders in one process, inventory,notification in another
  --binary PATH         run the compiled binary (e.g. dist/shop) instead of bun src/main.ts`;

function parseOptions() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      orders: { type: "string", default: "2000" },
      concurrency: { type: "string", default: "32" },
      seconds: { type: "string", default: "5" },
      products: { type: "string", default: "20" },
      customers: { type: "string", default: "8" },
      "read-concurrency": { type: "string", default: "32" },
      "saga-timeout": { type: "string", default: "60" },
      "placement-seconds": { type: "string", default: "45" },
      split: { type: "boolean", default: false },
      binary: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: string, raw: string, min: number, max: number) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      console.error(`--${name} must be an integer from ${min} to ${max} (got "${raw}")\n\n${USAGE}`);
      process.exit(2);
    }
    return n;
  };
  const binary = values.binary === undefined ? undefined : resolve(values.binary);
  if (binary !== undefined && !existsSync(binary)) {
    console.error(`--binary ${values.binary}: not found (npm run build makes dist/shop)`);
    process.exit(2);
  }
  return {
    orders: int("orders", values.orders, 1, 1_000_000),
    concurrency: int("concurrency", values.concurrency, 1, 1024),
    seconds: int("seconds", values.seconds, 1, 600),
    products: int("products", values.products, 1, 10_000),
    customers: int("customers", values.customers, 1, 10_000),
    readConcurrency: int("read-concurrency", values["read-concurrency"], 1, 1024),
    sagaTimeoutS: int("saga-timeout", values["saga-timeout"], 1, 3600),
    placementBudgetS: int("placement-seconds", values["placement-seconds"], 1, 3600),
    split: values.split,
    binary,
  };
}

type Options = ReturnType<typeof parseOptions>;

// ---------------------------------------------------------------------------------------------- cleanup

const aborted = new AbortController();
const spawned: ShopProcess[] = [];
let database: TestDatabase | undefined;
let prefix: string | undefined;
let cleaning: Promise<void> | undefined;

/** Bounded: a step that hangs is reported and left behind rather than holding the exit forever. */
async function step(what: string, work: () => Promise<unknown>, timeoutMs = 20_000): Promise<void> {
  let timer: Timer | undefined;
  try {
    await Promise.race([
      work(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs))),
    ]);
  } catch (error) {
    console.error(`cleanup: could not ${what}: ${(error as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Stops the shop processes (SIGTERM, SIGKILL after 15 s), drops the database, deletes the broker objects. Once. */
function cleanup(): Promise<void> {
  return (cleaning ??= (async () => {
    await Promise.all(spawned.map((p) => step(`stop ${p.name} (pid ${p.proc.pid})`, () => p.stop())));
    if (database) {
      const db = database;
      await step(`drop database ${db.name}`, () => db.drop());
    }
    if (prefix) {
      const p = prefix;
      await step(`delete broker objects under ${p}`, () => deleteBrokerObjects(p, [...MODULE_NAMES], RETRY_DELAYS_MS));
    }
  })());
}

let interrupts = 0;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    interrupts += 1;
    if (interrupts > 1) {
      console.error(`${signal} again: exiting without finishing cleanup (database ${database?.name ?? "-"}, prefix ${prefix ?? "-"} may be left)`);
      process.exit(130);
    }
    console.error(`\n${signal}: stopping the shop, dropping the database and the broker objects…`);
    aborted.abort();
    void cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------- processes

interface ShopProcess {
  name: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  baseUrl: string;
  /** Log lines at warn or above (pino level ≥ 40), and how many there were in all. */
  warnings: { count: number; first: string[] };
  tail(): string;
  /** SIGTERM, SIGKILL after 15 s; resolves with the exit code and how long the graceful stop took. */
  stop(): Promise<{ code: number | null; ms: number }>;
  stopped?: { code: number | null; ms: number };
}


const BANNER = /shop is up on http:\/\/localhost:(\d+)/;

async function startShop(name: string, options: Options, env: Record<string, string>): Promise<ShopProcess> {
  const command = options.binary ? [options.binary, "serve"] : [process.execPath, "src/main.ts", "serve"];
  const fullEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, ...env })) if (value !== undefined) fullEnv[key] = value;
  delete fullEnv.SMTP_URL; // e-mails are stored and logged, never sent
  const proc = Bun.spawn(command, { cwd: ROOT, env: fullEnv, stdin: "ignore", stdout: "pipe", stderr: "pipe" });

  let text = "";
  const lines: string[] = [];
  const warnings = { count: 0, first: [] as string[] };
  let changed = Promise.withResolvers<void>();
  const take = (chunk: string) => {
    text += chunk;
    let nl: number;
    while ((nl = text.indexOf("\n")) >= 0) {
      const line = text.slice(0, nl);
      text = text.slice(nl + 1);
      lines.push(line);
      if (lines.length > 200) lines.shift();
      // Our own readiness polls answer 503 until the broker is connected: not worth reporting.
      if (/"level":(4|5|6)0\b/.test(line) && !line.includes('"path":"/health/ready"')) {
        warnings.count += 1;
        if (warnings.first.length < 5) warnings.first.push(line.length > 300 ? `${line.slice(0, 300)}…` : line);
      }
    }
    changed.resolve();
    changed = Promise.withResolvers<void>();
  };
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) take(decoder.decode(chunk, { stream: true }));
  };
  const reading = Promise.all([pump(proc.stdout), pump(proc.stderr)]).catch(() => {});

  const handle: ShopProcess = {
    name,
    proc,
    baseUrl: "",
    warnings,
    tail: () => [...lines.slice(-40), text].join("\n"),
    async stop() {
      if (handle.stopped) return handle.stopped;
      const started = performance.now();
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      try {
        await proc.exited;
        await reading;
      } finally {
        clearTimeout(timer);
      }
      handle.stopped = { code: proc.exitCode ?? (proc.signalCode ? -1 : null), ms: performance.now() - started };
      return handle.stopped;
    },
  };
  spawned.push(handle);

  const deadline = Date.now() + 60_000;
  for (;;) {
    const match = lines.join("\n").match(BANNER);
    if (match) {
      handle.baseUrl = `http://127.0.0.1:${match[1]}`;
      break;
    }
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${name} exited (${proc.exitCode ?? proc.signalCode}) before serving:\n${handle.tail()}`);
    if (Date.now() > deadline) throw new Error(`${name} did not start serving within 60 s:\n${handle.tail()}`);
    if (aborted.signal.aborted) throw new Error("interrupted");
    await Promise.race([changed.promise, proc.exited, Bun.sleep(200)]);
  }
  await until(`${name} /health/ready`, 30_000, 100, async () => (await call(handle.baseUrl, "/health/ready")).status === 200);
  return handle;
}

// ---------------------------------------------------------------------------------------------- HTTP

interface Answer {
  status: number; // 0: no HTTP answer (connection error, timeout)
  body: unknown;
  ms: number;
  error?: string;
}

async function call(baseUrl: string, path: string, init: { method?: string; token?: string; json?: unknown } = {}): Promise<Answer> {
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

/** Polls `probe` every `intervalMs` until it is true; throws after `timeoutMs`. */
async function until(what: string, timeoutMs: number, intervalMs: number, probe: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (aborted.signal.aborted) throw new Error("interrupted");
    if (await probe()) return performance.now() - started;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(intervalMs);
  }
}

/** Runs `work(i)` for i in [0, count) with `concurrency` in flight; starts nothing new after `budgetMs`. Returns how many ran. */
async function pool(count: number, concurrency: number, work: (i: number, worker: number) => Promise<void>, budgetMs = Infinity): Promise<number> {
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

/** Runs `work()` with `concurrency` in flight until `seconds` have passed. */
async function forSeconds(seconds: number, concurrency: number, work: (worker: number) => Promise<void>): Promise<void> {
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < deadline && !aborted.signal.aborted) await work(worker);
    }),
  );
}

// ---------------------------------------------------------------------------------------------- figures

interface Stats {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
  return { count: sorted.length, p50: at(50), p90: at(90), p99: at(99), max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN };
}

class Recorder {
  readonly latencies: number[] = [];
  readonly statuses = new Map<string, number>();
  record(answer: Answer): void {
    this.latencies.push(answer.ms);
    const key = answer.status === 0 ? `ERR:${answer.error ?? "?"}` : String(answer.status);
    this.statuses.set(key, (this.statuses.get(key) ?? 0) + 1);
  }
  count(status: number): number {
    return this.statuses.get(String(status)) ?? 0;
  }
  statusText(): string {
    return [...this.statuses.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([s, n]) => `${s}×${n}`)
      .join(" ");
  }
}

// CPU accounting from /proc (Linux; "-" elsewhere). The machine is shared: other work running at the same
// time (a test suite, a build) shows up as "other", so a figure taken on a busy machine can be recognised.

const CLOCK_TICKS = (() => {
  const out = Bun.spawnSync(["getconf", "CLK_TCK"], { stdout: "pipe", stderr: "ignore" });
  const n = Number(out.stdout.toString().trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

const CPU_GROUPS = ["shop", "pg", "mq", "gen", "other"] as const;
type CpuGroup = (typeof CPU_GROUPS)[number];

interface Usage {
  wallS: number;
  /** CPU seconds per group: the shop processes, PostgreSQL (this database's backends and the server's own
   * processes), RabbitMQ, this load generator, and everything else (the rest of the machine's busy time). */
  cpuS: Record<CpuGroup, number>;
}

/** Busy jiffies of all cores together (/proc/stat), and each process's jiffies with its group. */
function cpuSnapshot(): { busy: number; processes: Map<number, { group: CpuGroup; ticks: number }> } | undefined {
  try {
    const [cpu] = readFileSync("/proc/stat", "utf8").split("\n");
    const n = (cpu ?? "").trim().split(/\s+/).slice(1, 9).map(Number); // user nice system idle iowait irq softirq steal
    const busy = n.reduce((a, b) => a + b, 0) - (n[3] ?? 0) - (n[4] ?? 0);
    const shopPids = new Set(spawned.map((p) => p.proc.pid));
    const processes = new Map<number, { group: CpuGroup; ticks: number }>();
    for (const entry of readdirSync("/proc")) {
      const pid = Number(entry);
      if (!Number.isInteger(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // state=0 … utime=11 stime=12
        const ticks = Number(fields[11]) + Number(fields[12]);
        let group: CpuGroup = "other";
        if (shopPids.has(pid)) group = "shop";
        else if (pid === process.pid) group = "gen";
        else if (comm === "postgres") {
          // A backend's title names its database; the server's own processes (WAL writer, checkpointer…) name none.
          const title = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
          const backend = /^postgres: \S+: \S+ (\S+) /.exec(title);
          group = !backend || backend[1] === database?.name ? "pg" : "other";
        } else if (/^(beam\.smp|erl_child_setup|inet_gethost|epmd)$/.test(comm)) group = "mq";
        processes.set(pid, { group, ticks });
      } catch {
        // the process ended meanwhile
      }
    }
    return { busy, processes };
  } catch {
    return undefined;
  }
}

/** Wall time of `work` and the CPU time each group used meanwhile. */
async function measured<T>(work: () => Promise<T>): Promise<{ result: T; usage: Usage }> {
  const before = cpuSnapshot();
  const started = performance.now();
  const result = await work();
  const wallS = (performance.now() - started) / 1000;
  const after = cpuSnapshot();
  const cpuS = Object.fromEntries(CPU_GROUPS.map((g) => [g, Number.NaN])) as Record<CpuGroup, number>;
  if (before && after) {
    const ticks: Record<CpuGroup, number> = { shop: 0, pg: 0, mq: 0, gen: 0, other: 0 };
    for (const [pid, now] of after.processes) ticks[now.group] += now.ticks - (before.processes.get(pid)?.ticks ?? 0);
    // "other" is the rest of the machine's busy time: other processes, ended ones, interrupts.
    ticks.other = Math.max(0, after.busy - before.busy - ticks.shop - ticks.pg - ticks.mq - ticks.gen);
    for (const g of CPU_GROUPS) cpuS[g] = ticks[g] / CLOCK_TICKS;
  }
  return { result, usage: { wallS, cpuS } };
}

const cpuCells = (usage: Usage) => CPU_GROUPS.map((g) => pct(usage.cpuS[g], usage.wallS));
const ms = (n: number) => (Number.isFinite(n) ? (n >= 100 ? n.toFixed(0) : n.toFixed(1)) : "-");
const pct = (cpuS: number, wallS: number) => (Number.isFinite(cpuS) && wallS > 0 ? `${Math.round((cpuS / wallS) * 100)}%` : "-");

// ---------------------------------------------------------------------------------------------- scenario

interface OrderSummary {
  id: string;
  status: string;
  customerId: string;
  items: Array<{ sku: string; quantity: number }>;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** Seeded, so two runs place the same orders. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function run(options: Options): Promise<void> {
  // How busy the machine was before we added anything: figures taken next to a running test suite are low.
  const idle = await measured(() => Bun.sleep(500));
  const busyBefore = CPU_GROUPS.reduce((sum, g) => sum + idle.usage.cpuS[g], 0) / idle.usage.wallS;
  const startedAt = performance.now();
  const secret = `bench-${crypto.randomUUID()}-${crypto.randomUUID()}`;
  database = await createTestDatabase("bench");
  prefix = testPrefix("bench");
  const env = {
    NODE_ENV: "production",
    PORT: "0",
    LOG_LEVEL: "warn",
    DATABASE_URL: database.url,
    AMQP_URL: TEST_AMQP_URL,
    AMQP_PREFIX: prefix,
    AUTH_SECRET: secret,
    RETRY_DELAYS_MS: RETRY_DELAYS_MS.join(","),
  };
  const topology = options.split ? "split: orders | inventory,notification" : "one process: orders,inventory,notification";
  const runner = options.binary ? `binary ${options.binary}` : `bun src/main.ts`;
  console.log(`bench: ${runner}, ${topology}; database ${database.name}, prefix ${prefix}`);

  const [ordersShop, inventoryShop] = await (async () => {
    if (!options.split) {
      const shop = await startShop("shop", options, env);
      return [shop, shop];
    }
    return Promise.all([
      startShop("orders", options, { ...env, MODULES: "orders" }),
      startShop("inventory+notification", options, { ...env, MODULES: "inventory,notification" }),
    ]);
  })();
  const startupS = (performance.now() - startedAt) / 1000;
  const ORDERS = ordersShop.baseUrl;
  const INVENTORY = inventoryShop.baseUrl;
  console.log(`· started and ready in ${startupS.toFixed(1)} s (${spawned.map((p) => `${p.name} ${p.baseUrl}`).join(", ")})`);

  const sign = (principal: Principal) => signToken(secret, principal, { expiresIn: "2h" });
  const adminToken = await sign({ sub: "bench-admin", email: "admin@bench.example", role: "admin" });
  const warmupToken = await sign({ sub: "bench-warmup", email: "warmup@bench.example", role: "customer" });
  const customers = await Promise.all(
    Array.from({ length: options.customers }, async (_, i) => {
      const sub = `bench-c${i + 1}`;
      return { sub, token: await sign({ sub, email: `${sub}@bench.example`, role: "customer" }) };
    }),
  );

  // Catalog: ample stock, so every order can be confirmed.
  const random = prng(42);
  const skus = Array.from({ length: options.products }, (_, i) => `BENCH-${String(i + 1).padStart(4, "0")}`);
  await pool(skus.length, 8, async (i) => {
    const sku = skus[i]!;
    const res = await call(INVENTORY, `/products/${sku}`, {
      method: "PUT",
      token: adminToken,
      json: { name: `Bench product ${i + 1}`, priceCents: 100 + Math.floor(random() * 9900), currency: "EUR", stock: STOCK_PER_PRODUCT },
    });
    if (res.status !== 201) throw new Error(`PUT /products/${sku} answered ${res.status}: ${JSON.stringify(res.body)}`);
  });
  const catalogAt = performance.now();

  // Warm-up orders, one per chunk of 50 skus: 422 until orders has every price; then wait for them to be final.
  const warmupIds: string[] = [];
  for (let from = 0; from < skus.length; from += MAX_LINES_PER_ORDER) {
    const items = skus.slice(from, from + MAX_LINES_PER_ORDER).map((sku) => ({ sku, quantity: 1 }));
    let last: Answer | undefined;
    await until("orders to know every price", 30_000, 25, async () => {
      last = await call(ORDERS, "/orders", { method: "POST", token: warmupToken, json: { items } });
      if (last.status === 201) return true;
      if (last.status !== 422) throw new Error(`warm-up POST /orders answered ${last.status}: ${JSON.stringify(last.body)}`);
      return false;
    });
    warmupIds.push((last!.body as { id: string }).id);
  }
  const pricesKnownMs = performance.now() - catalogAt;
  const warmupFinalMs = await until("the warm-up orders to be final", 30_000, 25, async () => {
    for (const id of warmupIds) {
      const res = await call(ORDERS, `/orders/${id}`, { token: warmupToken });
      if ((res.body as { status?: string } | null)?.status !== "confirmed") return false;
    }
    return true;
  });
  console.log(
    `· ${skus.length} products created; orders knew every price ${ms(pricesKnownMs)} ms after the last PUT; ` +
      `${warmupIds.length} warm-up order(s) confirmed ${ms(warmupFinalMs)} ms later`,
  );

  // 1. Placement.
  const placement = new Recorder();
  const accepted = new Map<string, { at: number; customer: number }>(); // id → client wall-clock ms of the 201
  let firstAcceptedAt = Number.POSITIVE_INFINITY;
  let lastAcceptedAt = 0;
  const plans = Array.from({ length: options.orders }, () => {
    const lines = 1 + Math.floor(random() * 3);
    const chosen = new Set<string>();
    while (chosen.size < Math.min(lines, skus.length)) chosen.add(skus[Math.floor(random() * skus.length)]!);
    return [...chosen].map((sku) => ({ sku, quantity: 1 + Math.floor(random() * 3) }));
  });
  console.log(`· placing ${options.orders} orders, ${options.concurrency} in flight, ${customers.length} customers…`);
  const place = await measured(() =>
    pool(
      options.orders,
      options.concurrency,
      async (i, worker) => {
      const customer = worker % customers.length;
      const res = await call(ORDERS, "/orders", { method: "POST", token: customers[customer]!.token, json: { items: plans[i] } });
      placement.record(res);
      if (res.status === 201) {
        const now = Date.now();
        accepted.set((res.body as { id: string }).id, { at: now, customer });
        firstAcceptedAt = Math.min(firstAcceptedAt, now);
        lastAcceptedAt = Math.max(lastAcceptedAt, now);
      }
      },
      options.placementBudgetS * 1000,
    ),
  );
  if (aborted.signal.aborted) throw new Error("interrupted");
  const cutShort = place.result < options.orders ? ` (stopped by the ${options.placementBudgetS} s budget: ${place.result} of ${options.orders} sent)` : "";
  const placementStats = stats(placement.latencies);
  const acceptedPerS = accepted.size / place.usage.wallS;
  console.log(`  ${accepted.size} accepted in ${place.usage.wallS.toFixed(2)} s = ${acceptedPerS.toFixed(0)}/s; ${placement.statusText()}${cutShort}`);

  // 2. Saga: wait until nothing is pending, then read every order's confirmation time.
  let pendingPolls = 0;
  let sagaTimedOut = false;
  await (async () => {
    const deadline = Date.now() + options.sagaTimeoutS * 1000;
    for (;;) {
      if (aborted.signal.aborted) throw new Error("interrupted");
      const res = await call(ORDERS, "/orders?status=pending&limit=1", { token: adminToken });
      pendingPolls += 1;
      if (res.status === 200 && (res.body as { items: unknown[] }).items.length === 0) return;
      if (Date.now() > deadline) {
        sagaTimedOut = true;
        return;
      }
      await Bun.sleep(50);
    }
  })();
  const allFinalSeenAt = Date.now();

  const all: OrderSummary[] = [];
  {
    let cursor: string | null = null;
    const maxPages = Math.ceil((options.orders + warmupIds.length) / 100) + 5;
    for (let page = 0; page < maxPages; page++) {
      const res = await call(ORDERS, `/orders?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { token: adminToken });
      if (res.status !== 200) throw new Error(`GET /orders answered ${res.status}: ${JSON.stringify(res.body)}`);
      const body = res.body as { items: OrderSummary[]; nextCursor: string | null };
      all.push(...body.items);
      cursor = body.nextCursor;
      if (!cursor) break;
    }
  }
  const byStatus = new Map<string, number>();
  for (const order of all) byStatus.set(order.status, (byStatus.get(order.status) ?? 0) + 1);
  const confirmedUnits = new Map<string, number>();
  for (const order of all) {
    if (order.status !== "confirmed") continue;
    for (const item of order.items) confirmedUnits.set(item.sku, (confirmedUnits.get(item.sku) ?? 0) + item.quantity);
  }
  const fromClient201: number[] = [];
  const fromServerCreate: number[] = [];
  const confirmTimes: number[] = [];
  let missing = accepted.size;
  for (const order of all) {
    const mine = accepted.get(order.id);
    if (!mine) continue;
    missing -= 1;
    if (order.status !== "confirmed" || order.version !== 2) continue;
    const confirmedAt = Date.parse(order.updatedAt);
    confirmTimes.push(confirmedAt);
    fromClient201.push(confirmedAt - mine.at);
    fromServerCreate.push(confirmedAt - Date.parse(order.createdAt));
  }
  confirmTimes.sort((a, b) => a - b);
  const lastConfirmAt = confirmTimes.at(-1) ?? Number.NaN;
  const confirmWindowS = confirmTimes.length > 1 ? (lastConfirmAt - confirmTimes[0]!) / 1000 : Number.NaN;
  const confirmsPerS = confirmTimes.length > 1 ? (confirmTimes.length - 1) / confirmWindowS : Number.NaN;
  const sagaFrom201 = stats(fromClient201);
  const sagaFromCreate = stats(fromServerCreate);

  const reserved = new Map<string, number>();
  await pool(skus.length, 8, async (i) => {
    const res = await call(INVENTORY, `/products/${skus[i]!}`);
    if (res.status !== 200) throw new Error(`GET /products/${skus[i]} answered ${res.status}`);
    reserved.set(skus[i]!, (res.body as { reserved: number }).reserved);
  });
  const stockMismatches = skus.filter((sku) => (reserved.get(sku) ?? 0) !== (confirmedUnits.get(sku) ?? 0));
  const totalReserved = [...reserved.values()].reduce((a, b) => a + b, 0);
  const totalConfirmedUnits = [...confirmedUnits.values()].reduce((a, b) => a + b, 0);
  const confirmed = byStatus.get("confirmed") ?? 0;
  const rejected = byStatus.get("rejected") ?? 0;
  const acceptedTotal = accepted.size + warmupIds.length;
  const countsOk = confirmed + rejected === acceptedTotal && all.length === acceptedTotal && missing === 0;

  console.log(
    `  all final ${sagaTimedOut ? "NOT REACHED (timeout)" : `${ms(allFinalSeenAt - lastAcceptedAt)} ms after the last 201 (seen by polling)`}` +
      `; last confirmation ${ms(lastConfirmAt - lastAcceptedAt)} ms after the last 201, ` +
      `${((lastConfirmAt - firstAcceptedAt) / 1000).toFixed(2)} s after the first`,
  );
  console.log(
    `  check: confirmed ${confirmed} + rejected ${rejected} = ${confirmed + rejected} vs accepted ${acceptedTotal} ` +
      `(${accepted.size} + ${warmupIds.length} warm-up), listed ${all.length}, ${[...byStatus.entries()].map(([s, n]) => `${s} ${n}`).join(", ")}` +
      ` → ${countsOk ? "OK" : "MISMATCH"}`,
  );
  console.log(
    `  check: reserved stock ${totalReserved} vs units in confirmed orders ${totalConfirmedUnits}` +
      ` → ${stockMismatches.length === 0 && totalReserved === totalConfirmedUnits ? "OK" : `MISMATCH on ${stockMismatches.join(", ")}`}`,
  );

  // 3. Reads.
  const ids = [...accepted.entries()];
  const readProducts = new Recorder();
  console.log(`· reads: GET /products, then GET /orders/:id, ${options.readConcurrency} in flight, ${options.seconds} s each…`);
  const products = await measured(() =>
    forSeconds(options.seconds, options.readConcurrency, async () => {
      readProducts.record(await call(INVENTORY, "/products"));
    }),
  );
  const readOrders = new Recorder();
  const orders = await measured(() =>
    forSeconds(options.seconds, options.readConcurrency, async () => {
      if (ids.length === 0) return Bun.sleep(10);
      const [id, { customer }] = ids[Math.floor(Math.random() * ids.length)]!;
      readOrders.record(await call(ORDERS, `/orders/${id}`, { token: customers[customer]!.token }));
    }),
  );

  // Stop now, so the graceful stop time is part of the figures (cleanup() will find them stopped).
  const stops = await Promise.all(spawned.map(async (p) => ({ name: p.name, ...(await p.stop()) })));

  // ------------------------------------------------------------------------------------------ report
  const rows: string[][] = [
    ["phase", "n", "ok", "rate/s", "p50", "p90", "p99", "max ms", ...CPU_GROUPS.map((g) => `${g}%`), "statuses"],
    [
      "POST /orders",
      String(placement.latencies.length),
      String(accepted.size),
      acceptedPerS.toFixed(0),
      ms(placementStats.p50),
      ms(placementStats.p90),
      ms(placementStats.p99),
      ms(placementStats.max),
      ...cpuCells(place.usage),
      placement.statusText(),
    ],
    [
      "saga 201→confirmed",
      String(accepted.size),
      String(fromClient201.length),
      Number.isFinite(confirmsPerS) ? confirmsPerS.toFixed(0) : "-",
      ms(sagaFrom201.p50),
      ms(sagaFrom201.p90),
      ms(sagaFrom201.p99),
      ms(sagaFrom201.max),
      ...CPU_GROUPS.map(() => ""),
      [...byStatus.entries()].map(([s, n]) => `${s}×${n}`).join(" "),
    ],
    [
      "  placed→confirmed",
      "",
      "",
      "",
      ms(sagaFromCreate.p50),
      ms(sagaFromCreate.p90),
      ms(sagaFromCreate.p99),
      ms(sagaFromCreate.max),
      ...CPU_GROUPS.map(() => ""),
      "(server clock, createdAt→updatedAt)",
    ],
    readRow("GET /products", readProducts, products.usage),
    readRow("GET /orders/:id", readOrders, orders.usage),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  const line = (r: string[]) =>
    r.map((cell, c) => (c === 0 || c === r.length - 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ").trimEnd();

  const pgVersion = await serverVersion();
  const cpus = os.cpus();
  console.log("");
  console.log(`== shop bench — ${topology} — ${runner}`);
  console.log(line(rows[0]!));
  for (const r of rows.slice(1)) console.log(line(r));
  console.log("");
  console.log(
    `cpu: % of one core (${os.availableParallelism()} cores = ${os.availableParallelism() * 100}%): shop processes, PostgreSQL (this database + server), RabbitMQ, ` +
      `this load generator, other (the rest of the machine's busy time). The saga runs during placement: its cpu is in that row.`,
  );
  if (cutShort) console.log(`placement${cutShort}`);
  console.log(
    `saga: all ${accepted.size} final ${sagaTimedOut ? "NOT within the timeout" : `${ms(lastConfirmAt - lastAcceptedAt)} ms after the last 201`}; ` +
      `confirmations ${confirmTimes.length} over ${Number.isFinite(confirmWindowS) ? confirmWindowS.toFixed(2) : "-"} s ` +
      `(first→last confirm); pending polls ${pendingPolls}`,
  );
  console.log(
    `checks: confirmed+rejected=accepted ${countsOk ? "OK" : "MISMATCH"} (${confirmed}+${rejected} vs ${acceptedTotal}); ` +
      `reserved=confirmed units ${stockMismatches.length === 0 && totalReserved === totalConfirmedUnits ? "OK" : "MISMATCH"} (${totalReserved} vs ${totalConfirmedUnits})`,
  );
  console.log(
    `setup: ready in ${startupS.toFixed(1)} s; prices known ${ms(pricesKnownMs)} ms after the catalog; ` +
      `graceful stop ${stops.map((s) => `${s.name} ${ms(s.ms)} ms exit ${s.code}`).join(", ")}`,
  );
  const warned = spawned.reduce((n, p) => n + p.warnings.count, 0);
  console.log(`shop log lines at warn or above: ${warned}`);
  for (const p of spawned) for (const w of p.warnings.first) console.log(`  [${p.name}] ${w}`);
  console.log(
    `machine: nproc ${os.availableParallelism()}, ${cpus[0]?.model?.trim() ?? "?"}, ` +
      `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.type()} ${os.release()}; bun ${Bun.version}` +
      `${options.binary ? ` (load generator; shop binary ${(statSync(options.binary).size / 2 ** 20).toFixed(0)} MiB)` : ""}; ` +
      `PostgreSQL ${pgVersion}; cpu busy before the run ${Number.isFinite(busyBefore) ? `${Math.round(busyBefore * 100)}%` : "-"} of one core, ` +
      `load avg after ${os.loadavg().map((n) => n.toFixed(2)).join(" ")}`,
  );
  console.log(
    `params: orders ${options.orders}, concurrency ${options.concurrency}, customers ${options.customers}, products ${options.products}, ` +
      `read concurrency ${options.readConcurrency}, ${options.seconds} s per read phase; total ${((performance.now() - startedAt) / 1000).toFixed(1)} s`,
  );
}

function readRow(name: string, recorder: Recorder, usage: Usage): string[] {
  const s = stats(recorder.latencies);
  return [
    name,
    String(s.count),
    String(recorder.count(200)),
    (recorder.count(200) / usage.wallS).toFixed(0),
    ms(s.p50),
    ms(s.p90),
    ms(s.p99),
    ms(s.max),
    ...cpuCells(usage),
    recorder.statusText(),
  ];
}

async function serverVersion(): Promise<string> {
  const sql = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ server_version: string }[]>`show server_version`;
    return row?.server_version.split(" ")[0] ?? "?";
  } catch {
    return "?";
  } finally {
    await sql.end({ timeout: 5 });
  }
}

// ---------------------------------------------------------------------------------------------- main

const options = parseOptions();
let exitCode = 0;
try {
  await run(options);
} catch (error) {
  exitCode = 1;
  if (!aborted.signal.aborted) {
    console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    for (const p of spawned) if (!p.stopped) console.error(`--- last output of ${p.name} ---\n${p.tail()}`);
  }
} finally {
  if (!aborted.signal.aborted) await cleanup();
}
if (aborted.signal.aborted) await new Promise(() => {}); // the signal handler exits once cleanup is done
process.exit(exitCode);
