/** The console report: throughput against the pgbench baseline, latencies, cost per phase, statements, steps. */
import { backlogText, GROWTH_RULE } from "./backlog.ts";
import { CPU_GROUPS } from "./cpu.ts";
import type { StepResult } from "./open-loop.ts";
import { corePercent, msPerUnit, systemMsPerUnit, type PhaseCost } from "./phase.ts";
import { PGBENCH_CLIENTS, PGBENCH_THREADS } from "./pgbench.ts";
import { phases, throughputs, type Results } from "./results.ts";
import { ms, num, table, type Recorder, type Stats } from "./stats.ts";

let out: string[] = [];
const print = (lines: string[] | string) => void out.push(...(Array.isArray(lines) ? lines : [lines]));

function printBaseline(r: Results): void {
  const p = r.pgbench;
  if (!p) print(`pgbench baseline: ${r.pgbenchSkipped ?? "skipped"}`);
  else print(
    `pgbench baseline (one order per transaction: BEGIN; order; 3 lines; history; outbox ~600 B jsonb; COMMIT — ` +
      `-c ${PGBENCH_CLIENTS} -j ${PGBENCH_THREADS} -M prepared, ${p.seconds} s): ${p.tps.toFixed(0)} tps, latency avg ${ms(p.latencyAvgMs)} ms, ` +
      `${p.failed} failed; PostgreSQL ${num(p.pgMsPerTx)} ms CPU per transaction`,
  );
  const rows = throughputs(r).map((t) => [t.name, num(t.perS), Number.isFinite(t.ratio) ? `shop/pgbench ${t.ratio.toFixed(3)}` : "shop/pgbench -"]);
  if (rows.length) print(table([["throughput", "/s", ""], ...rows]).map((l) => `  ${l}`));
}

const latencyRow = (name: string, n: number, ok: number, rate: number, s: Stats, note: string) =>
  [name, String(n), String(ok), num(rate), ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max), note];

const recorderRow = (name: string, rec: Recorder, ok: number, rate: number) =>
  latencyRow(name, rec.latencies.length, rec.count(ok), rate, rec.toJSON().stats, rec.statusText());

function printLatencies(r: Results): void {
  const rows: string[][] = [["latency (ms)", "n", "ok", "rate/s", "p50", "p90", "p99", "max", "statuses / notes"]];
  if (r.burst) {
    const b = r.burst;
    rows.push(recorderRow(`POST /orders (burst, ${b.concurrency} in flight)`, b.post, 201, b.acceptedPerS));
    rows.push(latencyRow("  201 → confirmed", b.accepted, b.saga.from201.count, b.saga.confirmsPerS, b.saga.from201, Object.entries(b.saga.byStatus).map(([s, n]) => `${s}×${n}`).join(" ")));
    rows.push(latencyRow("  created → confirmed", b.accepted, b.saga.fromCreate.count, Number.NaN, b.saga.fromCreate, "server clock"));
  }
  const o = r.openLoop;
  if (o) {
    rows.push(recorderRow(`POST /orders (open loop ${o.rate}/s)`, o.post, 201, o.achievedRate));
    rows.push(latencyRow("  place → confirmed", o.sent, o.sent - o.unconfirmed, Number.NaN, o.confirm, "from the scheduled send"));
  }
  for (const read of r.reads ?? []) rows.push(recorderRow(read.name, read.requests, 200, read.okPerS));
  if (rows.length > 1) print(["", ...table(rows)]);
}

function cpuRow(c: PhaseCost): string[] {
  return [c.name, num(c.wallS), ...CPU_GROUPS.map((g) => `${num(c.cpuS[g])} (${Math.round(corePercent(c, g))}%)`)];
}

function unitRow(c: PhaseCost): string[] {
  const per = msPerUnit(c);
  const perUnit = (n: number | null | undefined) => (n === null || n === undefined || c.units === 0 ? "-" : num(n / c.units));
  return [c.name, `${c.units} ${c.unit}s`, ...CPU_GROUPS.map((g) => num(per[g])), num(systemMsPerUnit(c)), perUnit(c.pg?.xacts), perUnit(c.pg?.txBlocks), perUnit(c.pg?.statements)];
}

function printCosts(r: Results): void {
  const all = phases(r);
  print(["", ...table([["cpu s (% of one core)", "wall s", ...CPU_GROUPS], ...all.map(cpuRow)])]);
  print(
    `  groups: shop = the shop's processes and their children; pg = PostgreSQL (backends of the databases under test + server); ` +
      `mq = RabbitMQ; gen = this load generator (+ pgbench); other = the rest of the machine (${r.machine.nproc} cores = ${r.machine.nproc * 100}%).`,
  );
  const head = ["per unit of work", "work", ...CPU_GROUPS.map((g) => `${g} ms`), "sys ms", "xacts", "tx blocks", "statements"];
  print(["", ...table([head, ...all.map(unitRow)])]);
  print(
    `  unit: an order final (burst, open loop: the cost window runs until the system drained), a request answered (reads), a pgbench transaction. ` +
      `sys = shop+pg+mq. xacts: pg_stat_database commits+rollbacks (a busy backend flushes them up to 1 s late); ` +
      `tx blocks: BEGIN calls; statements: pg_stat_statements calls, BEGIN and COMMIT included.`,
  );
  if (r.shop?.statementsUnavailable) print(`  pg_stat_statements: n/a (${r.shop.statementsUnavailable})`);
}

function printTopStatements(r: Results): void {
  const c = r.burst?.cost;
  if (!c?.pg || c.pg.statements === null || c.units === 0) return;
  print(["", `top statements during the burst (calls per order; ${num(c.pg.statements / c.units)} statements per order in all):`]);
  print(table([["calls/order", "query"], ...c.pg.top.map((s) => [num(s.calls / c.units), s.query])]).map((l) => `  ${l}`));
}

const stepRow = (s: StepResult) => {
  const per = msPerUnit(s.cost);
  const post = s.post.toJSON().stats;
  return [
    s.label, String(s.rate), num(s.achievedRate), ms(post.p50), ms(post.p99), ms(s.confirm.p50), ms(s.confirm.p99),
    backlogText(s.backlogEnd), ...CPU_GROUPS.map((g) => num(per[g])), num(systemMsPerUnit(s.cost)), s.pass ? "pass" : `FAIL ${s.verdict}`,
  ];
};

function printSteps(r: Results): void {
  const steps = [...(r.openLoop ? [r.openLoop] : []), ...(r.capacity?.steps ?? [])];
  if (steps.length === 0) return;
  const head = ["open loop", "offered/s", "achieved", "POST p50", "p99", "confirm p50", "p99", "backlog at end", ...CPU_GROUPS.map((g) => `${g} ms`), "sys ms", "verdict"];
  print(["", ...table([head, ...steps.map(stepRow)])]);
  print(`  ms: CPU per order. p50/p99 in ms from the scheduled send. outbox/queue a/b/c: orders/inventory/notification. ${GROWTH_RULE(r.options.backlogSeconds)}; pass also needs p99 < ${r.options.sloMs} ms, no failed POST, and a drain.`);
  if (r.openLoop) {
    const o = r.openLoop;
    print(`  open loop: sent ${o.sent}, send lag p99 ${ms(o.sendLag.p99)} ms, errors ${o.errors}, backlog at start ${backlogText(o.backlogStart)}, at end ${backlogText(o.backlogEnd)}, ${o.drained ? `drained in ${ms(o.drainMs)} ms` : "NOT drained"}`);
  }
  const c = r.capacity;
  if (c) {
    const found = c.capacity === null ? "no step passed" : `${c.capacity}/s${c.lowestFail === null ? " (no step failed: at least this)" : ` (lowest fail ${c.lowestFail}/s)`}`;
    print(`  capacity: ${found}; search stopped: ${c.stoppedBecause}; ${c.elapsedS.toFixed(0)} s`);
  }
}

/** The report as lines (printed at the end of the run, and kept in report.html). */
export function reportLines(r: Results): string[] {
  out = [];
  print(["", `== shop bench — ${r.mode} — ${r.shop?.topology ?? "-"} — ${r.shop?.runner ?? "-"} — ${r.git.commit}${r.git.dirty ? " (dirty)" : ""}`]);
  if (r.machine.busyBefore > 0.25) {
    print(`NOTE: the machine was busy before the run (${Math.round(r.machine.busyBefore * 100)}% of one core): see "other"; figures are not comparable with a quiet run.`);
  }
  printBaseline(r);
  printLatencies(r);
  printCosts(r);
  printTopStatements(r);
  printSteps(r);
  printFacts(r);
  return out;
}

function printFacts(r: Results): void {
  const lines: string[] = [""];
  const k = r.checks;
  if (k) {
    lines.push(
      `checks: confirmed+rejected=accepted ${k.countsOk ? "OK" : "MISMATCH"} (${k.confirmed}+${k.rejected} vs ${k.accepted}, listed ${k.listed}, missing ${k.missing}); ` +
        `reserved=confirmed units ${k.stockOk ? "OK" : `MISMATCH on ${k.stockMismatches.join(", ")}`} (${k.reserved} vs ${k.confirmedUnits})`,
    );
  }
  if (r.burst?.cutShort) lines.push(`burst stopped by the ${r.options.placementSeconds} s budget: ${r.burst.sent} of ${r.burst.orders} sent`);
  lines.push(`peak RSS: ${r.rss.map((p) => `${p.name} (pid ${p.pid}) ${num(p.sampledMiB)} MiB sampled, VmHWM ${num(p.hwmMiB)} MiB`).join("; ") || "-"}`);
  const s = r.shop;
  if (s) {
    lines.push(`setup: ready in ${s.startupS.toFixed(1)} s; prices known ${ms(s.pricesKnownMs)} ms after the catalog; graceful stop ${s.stops.map((x) => `${x.name} ${ms(x.ms)} ms exit ${x.code}`).join(", ")}`);
    lines.push(`shop log lines at warn or above: ${s.warnings.reduce((n, w) => n + w.count, 0)}`);
    for (const w of s.warnings) for (const line of w.first) lines.push(`  [${w.name}] ${line}`);
  }
  const m = r.machine;
  lines.push(
    `machine: nproc ${m.nproc}, ${m.cpu}, ${m.memGiB} GiB, ${m.os}; bun ${m.bun}; PostgreSQL ${m.postgres}; ` +
      `busy before the run ${Math.round(m.busyBefore * 100)}% of one core; load avg after ${m.loadAvgAfter.map((n) => n.toFixed(2)).join(" ")}`,
  );
  const o = r.options;
  lines.push(
    `params: ${o.capacity ? "capacity search" : `orders ${o.orders} @${o.concurrency}, open loop ${o.rate}/s × ${o.seconds} s, reads ${o.readSeconds} s @${o.readConcurrency}`}, ` +
      `products ${o.products}, customers ${o.customers}${o.capacity ? `, from ${o.rate}/s, steps ${o.stepSeconds} s, budget ${o.capacityBudget} s, SLO p99 ${o.sloMs} ms` : ""}` +
      `; total ${r.totalS.toFixed(1)} s`,
  );
  print(lines);
}
