/** The run, in order: baseline, setup, the load phases, checks, reads, stop, report, results on disk. */
import { runBurst } from "./burst.ts";
import { capacitySearch } from "./capacity.ts";
import { checkConsistency } from "./checks.ts";
import { aborted, cleanup, installSignalHandlers, ROOT, run, throwIfAborted } from "./context.ts";
import { machineBusy, rssSampler } from "./cpu.ts";
import { runOpenLoop, stepLine } from "./open-loop.ts";
import { parseOptions, type Options } from "./options.ts";
import type { Accepted } from "./orders.ts";
import { pgbenchBaseline } from "./pgbench.ts";
import { serverVersion } from "./postgres-stats.ts";
import { runReads } from "./reads.ts";
import { reportLines } from "./report.ts";
import { renderHtml } from "./charts.ts";
import { gitState, machine, phases, runMode, writeResults, type Results } from "./results.ts";
import { setUp, type Shop } from "./setup.ts";
import { num } from "./stats.ts";

async function baseline(options: Options, results: Results): Promise<void> {
  if (options.pgbenchSeconds === 0) return void (results.pgbenchSkipped = "skipped (--pgbench-seconds 0)");
  console.log(`· pgbench baseline, ${options.pgbenchSeconds} s…`);
  try {
    results.pgbench = await pgbenchBaseline(options.pgbenchSeconds);
    console.log(`  ${results.pgbench.tps.toFixed(0)} tps; PostgreSQL ${num(results.pgbench.pgMsPerTx)} ms CPU per transaction`);
  } catch (error) {
    throwIfAborted();
    results.pgbenchSkipped = `n/a: ${(error as Error).message}`;
    console.log(`  pgbench baseline ${results.pgbenchSkipped}`);
  }
}

async function loadPhases(shop: Shop, options: Options, results: Results, accepted: Accepted): Promise<void> {
  if (options.capacity) {
    results.capacity = await capacitySearch(shop, options, accepted);
    return;
  }
  if (options.orders > 0) results.burst = await runBurst(shop, options, accepted);
  if (options.seconds > 0) {
    console.log(`· open loop: ${options.rate}/s for ${options.seconds} s…`);
    results.openLoop = await runOpenLoop(shop, accepted, {
      label: `open loop ${options.rate}/s`, kind: "open-loop", rate: options.rate, seconds: options.seconds,
      drainTimeoutS: options.sagaTimeout, backlogSeconds: options.backlogSeconds, sloMs: options.sloMs,
    });
    console.log(`  ${stepLine(results.openLoop)}`);
  }
}

function shopFacts(shop: Shop, stops: Array<{ name: string; code: number | null; ms: number }>): Results["shop"] {
  return {
    topology: shop.topology, runner: shop.runner, database: shop.databaseName, startupS: shop.startupS,
    pricesKnownMs: shop.pricesKnownMs, warmupFinalMs: shop.warmupFinalMs, statementsUnavailable: shop.statementsUnavailable,
    stops, warnings: run.spawned.map((p) => ({ name: p.name, count: p.warnings.count, first: p.warnings.first })),
  };
}

async function bench(options: Options): Promise<void> {
  const busyBefore = await machineBusy();
  const started = performance.now();
  const results: Results = {
    startedAt: new Date().toISOString(), mode: runMode(options), options, git: gitState(),
    machine: machine(await serverVersion(), busyBefore), rss: [], totalS: 0,
  };
  await baseline(options, results);
  const shop = await setUp(options);
  const rss = rssSampler();
  const accepted: Accepted = new Map();
  await loadPhases(shop, options, results, accepted);
  console.log("· checks: every accepted order final, reserved stock = units of confirmed orders…");
  results.checks = await checkConsistency(shop, accepted);
  if (!options.capacity && options.readSeconds > 0) results.reads = await runReads(shop, options, accepted);
  results.rss = rss.finish();
  // Stop now, so the graceful stop time is part of the figures (cleanup() will find them stopped).
  const stops = await Promise.all(run.spawned.map(async (p) => ({ name: p.name, ...(await p.stop()) })));
  results.shop = shopFacts(shop, stops);
  results.machine.loadAvgAfter = machine(results.machine.postgres, busyBefore).loadAvgAfter;
  results.totalS = (performance.now() - started) / 1000;
  const lines = reportLines(results);
  console.log(lines.join("\n"));
  const dir = writeResults(results, renderHtml(results, phases(results), lines));
  console.log(`results: ${dir}/results.json, ${dir}/report.html`);
}

export async function main(argv: string[]): Promise<never> {
  const options = parseOptions(argv, ROOT);
  installSignalHandlers();
  let exitCode = 0;
  try {
    await bench(options);
  } catch (error) {
    exitCode = 1;
    if (!aborted.signal.aborted) {
      console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      for (const p of run.spawned) if (!p.stopped) console.error(`--- last output of ${p.name} ---\n${p.tail()}`);
    }
  } finally {
    if (!aborted.signal.aborted) await cleanup();
  }
  if (aborted.signal.aborted) await new Promise(() => {}); // the signal handler exits once cleanup is done
  process.exit(exitCode);
}
