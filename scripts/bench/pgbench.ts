/**
 * The baseline: what this PostgreSQL does with the shop's own write for one order, without the shop.
 * In a throwaway database with the orders module's tables (its migrations, drizzle/orders/*.sql), pgbench
 * runs one order per transaction — BEGIN; the order; its 3 lines (one statement, as the shop does); its
 * history row; an outbox row with a ~600-byte jsonb envelope; COMMIT — 8 clients, 2 threads, prepared.
 * (No ':' in the script's literals: pgbench would take `:name` for a variable.)
 * Its tps is the ceiling the shop's figures are divided by ("shop/pgbench").
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { createTestDatabase } from "../../src/test-support/database.ts";
import { ROOT, run, throwIfAborted } from "./context.ts";
import { pgDatabases } from "./cpu.ts";
import { startMeter, type PhaseCost } from "./phase.ts";

export const PGBENCH_CLIENTS = 8;
export const PGBENCH_THREADS = 2;

export interface PgbenchResult {
  seconds: number;
  clients: number;
  threads: number;
  tps: number;
  transactions: number;
  failed: number;
  latencyAvgMs: number;
  /** PostgreSQL CPU (backends + server) per transaction, ms. */
  pgMsPerTx: number;
  cost: PhaseCost;
}

const uuid = (hi: string, lo: string) => `(lpad(to_hex(:${hi}::bigint), 16, '0') || lpad(to_hex(:${lo}::bigint), 16, '0'))::uuid`;
const uuidText = (hi: string, lo: string) => `${uuid(hi, lo)}::text`;

function line(n: number): string {
  return `{"sku":"BENCH-000${n}","name":"Bench product ${n}","quantity":' || :q${n}::text || ',"unitPriceCents":123${n},"lineTotalCents":' || :t${n}::text || '}`;
}

/** The envelope as the shop's outbox stores it (orders.order-placed), ~600 bytes, built per transaction. */
const ENVELOPE =
  `('{"id":"' || ${uuidText("e", "b")} || '","name":"orders.order-placed","version":1,"occurredAt":"' || (to_json(now()) #>> '{}') || ` +
  `'","source":"orders","correlationId":"' || ${uuidText("a", "b")} || '","data":{"orderId":"' || ${uuidText("a", "b")} || ` +
  `'","customerId":"bench-c' || :c::text || '","customerEmail":"bench-c' || :c::text || '@bench.example","currency":"EUR","totalCents":' || :total::text || ` +
  `',"items":[${line(1)},${line(2)},${line(3)}]}}')::jsonb`;

export const PGBENCH_SCRIPT = `\\set a random(0, 9223372036854775806)
\\set b random(0, 9223372036854775806)
\\set e random(0, 9223372036854775806)
\\set c random(1, 8)
\\set q1 random(1, 3)
\\set q2 random(1, 3)
\\set q3 random(1, 3)
\\set t1 :q1 * 1231
\\set t2 :q2 * 1232
\\set t3 :q3 * 1233
\\set total :t1 + :t2 + :t3
BEGIN;
INSERT INTO orders.orders (id, customer_id, customer_email, status, status_reason, total_cents, currency, version, created_at, updated_at)
  VALUES (${uuid("a", "b")}, 'bench-c' || :c::text, 'bench-c' || :c::text || '@bench.example', 'pending', NULL, :total, 'EUR', 1, now(), now());
INSERT INTO orders.order_items (order_id, line_no, sku, name, quantity, unit_price_cents, line_total_cents)
  VALUES (${uuid("a", "b")}, 1, 'BENCH-0001', 'Bench product 1', :q1, 1231, :t1),
         (${uuid("a", "b")}, 2, 'BENCH-0002', 'Bench product 2', :q2, 1232, :t2),
         (${uuid("a", "b")}, 3, 'BENCH-0003', 'Bench product 3', :q3, 1233, :t3);
INSERT INTO orders.order_history (order_id, status, at, reason) VALUES (${uuid("a", "b")}, 'pending', now(), NULL);
INSERT INTO orders.outbox (id, name, envelope) VALUES (${uuid("e", "b")}, 'orders.order-placed', ${ENVELOPE});
COMMIT;
`;

/** The orders module's migrations, statement by statement. */
async function createOrdersTables(url: string): Promise<void> {
  const dir = join(ROOT, "drizzle", "orders");
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
      for (const statement of readFileSync(join(dir, file), "utf8").split("--> statement-breakpoint")) {
        if (statement.trim()) await sql.unsafe(statement);
      }
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function parseOutput(out: string) {
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? Number.NaN);
  return {
    tps: num(/^tps = ([\d.]+)/m),
    transactions: num(/number of transactions actually processed: (\d+)/),
    failed: Number(/number of failed transactions: (\d+)/.exec(out)?.[1] ?? 0),
    latencyAvgMs: num(/latency average = ([\d.]+) ms/),
  };
}

async function runPgbench(url: string, seconds: number, scriptPath: string): Promise<string> {
  const u = new URL(url);
  const args = ["-n", "-M", "prepared", "-c", String(PGBENCH_CLIENTS), "-j", String(PGBENCH_THREADS), "-T", String(seconds), "-f", scriptPath];
  const conn = ["-h", u.hostname, "-p", u.port || "5432", "-U", decodeURIComponent(u.username || "postgres"), u.pathname.slice(1)];
  const env = { ...process.env, PGPASSWORD: decodeURIComponent(u.password) };
  const proc = Bun.spawn([process.env.PGBENCH ?? "pgbench", ...args, ...conn], { env, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`pgbench exited ${code}: ${err.trim().split("\n").slice(-5).join(" | ")}`);
  return out;
}

/** Runs the baseline in its own database, dropped afterwards. */
export async function pgbenchBaseline(seconds: number): Promise<PgbenchResult> {
  const db = await createTestDatabase("bench_pgbench");
  run.databases.push(db);
  pgDatabases.add(db.name);
  const scriptPath = join(os.tmpdir(), `${db.name}.sql`);
  try {
    await createOrdersTables(db.url);
    writeFileSync(scriptPath, PGBENCH_SCRIPT);
    throwIfAborted();
    const meter = await startMeter(undefined, false, 100); // sampled: pgbench and its backends end within the window
    const out = await runPgbench(db.url, seconds, scriptPath);
    const cost = await meter.stop("pgbench order tx", "pgbench", "transaction");
    const parsed = parseOutput(out);
    cost.units = parsed.transactions;
    const pgMsPerTx = (cost.cpuS.pg * 1000) / parsed.transactions;
    return { seconds, clients: PGBENCH_CLIENTS, threads: PGBENCH_THREADS, ...parsed, pgMsPerTx, cost };
  } finally {
    rmSync(scriptPath, { force: true });
    pgDatabases.delete(db.name);
    await db.drop();
    run.databases.splice(run.databases.indexOf(db), 1);
  }
}
