/**
 * CPU accounting from /proc (Linux; NaN elsewhere), by group:
 *   shop   every process started as the shop, and all their descendants
 *   pg     PostgreSQL: backends of the databases under test, and the server's own processes
 *   mq     RabbitMQ (beam.smp and its helpers)
 *   gen    this load generator, and its other children (pgbench)
 *   other  the rest of the machine's busy time (/proc/stat), e.g. a test suite running meanwhile
 * A process that ends within a window counts up to its last sample when the window samples /proc (the
 * pgbench baseline does, every 100 ms: its backends end with it); otherwise its time falls into "other".
 * (Children's cutime is not used: the postmaster reaps every backend of every database.) Peak RSS too.
 */
import { readdirSync, readFileSync } from "node:fs";
import { run } from "./context.ts";

export const CPU_GROUPS = ["shop", "pg", "mq", "gen", "other"] as const;
export type CpuGroup = (typeof CPU_GROUPS)[number];
export type CpuSeconds = Record<CpuGroup, number>;

/** Databases whose backends count as "pg" (the shop's, the pgbench baseline's). */
export const pgDatabases = new Set<string>();

const CLOCK_TICKS = (() => {
  const out = Bun.spawnSync(["getconf", "CLK_TCK"], { stdout: "pipe", stderr: "ignore" });
  const n = Number(out.stdout.toString().trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

interface ProcInfo {
  ppid: number;
  comm: string;
  ticks: number;
}

function readProcesses(): Map<number, ProcInfo> {
  const out = new Map<number, ProcInfo>();
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // state=0 ppid=1 … utime=11 stime=12
      out.set(pid, { ppid: Number(f[1]), comm, ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

/** The pids in `roots` and every process descending from one of them. */
export function descendants(procs: Map<number, { ppid: number }>, roots: Iterable<number>): Set<number> {
  const inside = new Set(roots);
  const memo = new Map<number, boolean>();
  const walk = (pid: number, depth: number): boolean => {
    if (inside.has(pid)) return true;
    if (pid <= 1 || depth > 64) return false;
    const known = memo.get(pid);
    if (known !== undefined) return known;
    const parent = procs.get(pid)?.ppid;
    const result = parent !== undefined && walk(parent, depth + 1);
    memo.set(pid, result);
    return result;
  };
  return new Set([...procs.keys()].filter((pid) => walk(pid, 0)));
}

function groupOf(pid: number, info: ProcInfo, shop: Set<number>, gen: Set<number>): CpuGroup {
  if (shop.has(pid)) return "shop";
  if (gen.has(pid)) return "gen";
  if (info.comm === "postgres") {
    // A backend's title names its database; the server's own processes (WAL writer, checkpointer…) name none.
    try {
      const title = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      const backend = /^postgres: \S+: \S+ (\S+) /.exec(title);
      return !backend || pgDatabases.has(backend[1]!) ? "pg" : "other";
    } catch {
      return "other";
    }
  }
  return /^(beam\.smp|erl_child_setup|inet_gethost|epmd)$/.test(info.comm) ? "mq" : "other";
}

interface Snapshot {
  busy: number;
  processes: Map<number, { group: CpuGroup; ticks: number }>;
}

/** Busy jiffies of all cores together (/proc/stat), and each process's jiffies with its group. */
function snapshot(): Snapshot | undefined {
  try {
    const [cpu] = readFileSync("/proc/stat", "utf8").split("\n");
    const n = (cpu ?? "").trim().split(/\s+/).slice(1, 9).map(Number); // user nice system idle iowait irq softirq steal
    const busy = n.reduce((a, b) => a + b, 0) - (n[3] ?? 0) - (n[4] ?? 0);
    const procs = readProcesses();
    const shop = descendants(procs, run.spawned.map((p) => p.proc.pid));
    const gen = descendants(procs, [process.pid]);
    const processes = new Map<number, { group: CpuGroup; ticks: number }>();
    for (const [pid, info] of procs) processes.set(pid, { group: groupOf(pid, info, shop, gen), ticks: info.ticks });
    return { busy, processes };
  } catch {
    return undefined;
  }
}

function difference(before: Snapshot, after: Snapshot): CpuSeconds {
  const ticks: CpuSeconds = { shop: 0, pg: 0, mq: 0, gen: 0, other: 0 };
  for (const [pid, now] of after.processes) ticks[now.group] += Math.max(0, now.ticks - (before.processes.get(pid)?.ticks ?? 0));
  // "other" is the rest of the machine's busy time: other processes, ended ones, interrupts.
  ticks.other = Math.max(0, after.busy - before.busy - ticks.shop - ticks.pg - ticks.mq - ticks.gen);
  return Object.fromEntries(CPU_GROUPS.map((g) => [g, ticks[g] / CLOCK_TICKS])) as CpuSeconds;
}

export interface Usage {
  wallS: number;
  cpuS: CpuSeconds;
}

/**
 * A window of wall time and the CPU each group used in it. With `sampleMs`, /proc is also read during the
 * window, so a process that ends in it (pgbench, its backends) counts up to its last sample.
 */
export function cpuWindow(sampleMs?: number): { stop(): Usage } {
  const before = snapshot();
  const started = performance.now();
  const seen = new Map<number, { group: CpuGroup; ticks: number }>();
  const sample = () => {
    for (const [pid, p] of snapshot()?.processes ?? []) seen.set(pid, p);
  };
  const timer = sampleMs ? setInterval(sample, sampleMs) : undefined;
  return {
    stop() {
      clearInterval(timer);
      const wallS = (performance.now() - started) / 1000;
      const after = snapshot();
      if (after) for (const [pid, p] of seen) if (!after.processes.has(pid)) after.processes.set(pid, p);
      const cpuS = before && after ? difference(before, after) : (Object.fromEntries(CPU_GROUPS.map((g) => [g, Number.NaN])) as CpuSeconds);
      return { wallS, cpuS };
    },
  };
}

export interface RssPeak {
  name: string;
  pid: number;
  /** Highest VmRSS seen by sampling every 200 ms (MiB). */
  sampledMiB: number;
  /** VmHWM (the kernel's own peak) read at the end (MiB); NaN when the process had ended. */
  hwmMiB: number;
}

function statusField(pid: number, field: "VmRSS" | "VmHWM"): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Samples VmRSS of every shop process and descendant every 200 ms; finds new descendants every second. */
export function rssSampler(): { finish(): RssPeak[] } {
  const peaks = new Map<number, RssPeak>();
  let tick = 0;
  const sample = () => {
    if (tick++ % 5 === 0) {
      for (const shop of run.spawned) {
        for (const pid of descendants(readProcesses(), [shop.proc.pid])) {
          if (!peaks.has(pid)) peaks.set(pid, { name: pid === shop.proc.pid ? shop.name : `${shop.name}/child`, pid, sampledMiB: 0, hwmMiB: Number.NaN });
        }
      }
    }
    for (const peak of peaks.values()) {
      const rss = statusField(peak.pid, "VmRSS");
      if (rss > peak.sampledMiB) peak.sampledMiB = rss;
    }
  };
  const timer = setInterval(sample, 200);
  return {
    finish() {
      clearInterval(timer);
      for (const peak of peaks.values()) peak.hwmMiB = statusField(peak.pid, "VmHWM");
      return [...peaks.values()];
    },
  };
}

/** How busy the machine is without us: figures taken next to a running test suite are low. */
export async function machineBusy(ms = 500): Promise<number> {
  const window = cpuWindow();
  await Bun.sleep(ms);
  const usage = window.stop();
  return (usage.cpuS.shop + usage.cpuS.pg + usage.cpuS.mq + usage.cpuS.gen + usage.cpuS.other) / usage.wallS;
}
