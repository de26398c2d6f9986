/** Everything a run found, as one object: printed by report.ts, written to results.json and report.html. */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import type { BurstResult } from "./burst.ts";
import type { CapacityResult } from "./capacity.ts";
import type { Checks } from "./checks.ts";
import { ROOT } from "./context.ts";
import type { RssPeak } from "./cpu.ts";
import type { StepResult } from "./open-loop.ts";
import type { Options } from "./options.ts";
import type { PgbenchResult } from "./pgbench.ts";
import { msPerUnit, systemMsPerUnit, type PhaseCost } from "./phase.ts";
import type { ReadResult } from "./reads.ts";

export interface Results {
  startedAt: string;
  mode: string;
  options: Options;
  git: { commit: string; dirty: boolean; changedFiles: number };
  machine: Machine;
  shop?: ShopFacts;
  pgbench?: PgbenchResult;
  pgbenchSkipped?: string;
  burst?: BurstResult;
  openLoop?: StepResult;
  capacity?: CapacityResult;
  reads?: ReadResult[];
  checks?: Checks;
  rss: RssPeak[];
  totalS: number;
}

export interface Machine {
  nproc: number;
  cpu: string;
  memGiB: number;
  os: string;
  bun: string;
  postgres: string;
  /** Busy CPU before the run, in cores (0.08 = 8 % of one core). */
  busyBefore: number;
  loadAvgAfter: number[];
}

export interface ShopFacts {
  topology: string;
  runner: string;
  database: string;
  startupS: number;
  pricesKnownMs: number;
  warmupFinalMs: number;
  statementsUnavailable: string;
  stops: Array<{ name: string; code: number | null; ms: number }>;
  warnings: Array<{ name: string; count: number; first: string[] }>;
}

export function runMode(options: Options): string {
  return `${options.capacity ? "capacity" : "run"}${options.split ? "-split" : ""}${options.binary ? "-binary" : ""}`;
}

export function gitState(): Results["git"] {
  const git = (...args: string[]) => Bun.spawnSync(["git", ...args], { cwd: ROOT, stdout: "pipe", stderr: "ignore" }).stdout.toString().trim();
  const changes = git("status", "--porcelain").split("\n").filter(Boolean);
  return { commit: git("rev-parse", "--short", "HEAD") || "?", dirty: changes.length > 0, changedFiles: changes.length };
}

export function machine(postgres: string, busyBefore: number): Machine {
  return {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model?.trim() ?? "?",
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    bun: Bun.version,
    postgres,
    busyBefore,
    loadAvgAfter: os.loadavg(),
  };
}

/** The shop's throughput figures and their ratio to the pgbench transaction rate. */
export function throughputs(r: Results): Array<{ name: string; perS: number; ratio: number }> {
  const tps = r.pgbench?.tps ?? Number.NaN;
  const rows: Array<{ name: string; perS: number }> = [];
  if (r.burst) rows.push({ name: "burst: accepted", perS: r.burst.acceptedPerS }, { name: "burst: confirmations (end to end)", perS: r.burst.saga.confirmsPerS });
  if (r.capacity) rows.push({ name: `capacity (p99 < ${r.options.sloMs} ms, no backlog)`, perS: r.capacity.capacity ?? Number.NaN });
  return rows.map((row) => ({ ...row, ratio: row.perS / tps }));
}

/** Every phase's cost, in run order. */
export function phases(r: Results): PhaseCost[] {
  return [
    ...(r.pgbench ? [r.pgbench.cost] : []),
    ...(r.burst ? [r.burst.cost] : []),
    ...(r.openLoop ? [r.openLoop.cost] : []),
    ...(r.capacity?.steps.map((s) => s.cost) ?? []),
    ...(r.reads?.map((x) => x.cost) ?? []),
  ];
}

const replacer = (_key: string, value: unknown) => {
  if (typeof value === "number" && !Number.isFinite(value)) return Number.isNaN(value) ? null : value > 0 ? "Infinity" : "-Infinity";
  if (value instanceof Map) return Object.fromEntries(value);
  return value;
};

/** Writes <dir>/<ISO time>-<mode>/results.json and report.html (rendered by charts.ts); returns the folder. */
export function writeResults(r: Results, html: string): string {
  const dir = join(r.options.resultsDir, `${r.startedAt.replace(/[:.]/g, "-")}-${r.mode}`);
  mkdirSync(dir, { recursive: true });
  const costs = phases(r).map((c) => ({ ...c, msPerUnit: msPerUnit(c), sysMsPerUnit: systemMsPerUnit(c) }));
  writeFileSync(join(dir, "results.json"), `${JSON.stringify({ ...r, throughput: throughputs(r), phases: costs }, replacer, 2)}\n`);
  writeFileSync(join(dir, "report.html"), html);
  return dir;
}
