/** A phase's cost: wall time, CPU per group, and PostgreSQL's transactions and statements, per unit of work. */
import { CPU_GROUPS, cpuWindow, type CpuGroup, type CpuSeconds } from "./cpu.ts";
import { pgDelta, readPg, type PgDelta, type ShopDb } from "./postgres-stats.ts";

export interface PhaseCost {
  name: string;
  kind: "pgbench" | "burst" | "open-loop" | "step" | "read";
  wallS: number;
  cpuS: CpuSeconds;
  /** How much work the phase completed (orders final, requests answered, pgbench transactions) … */
  units: number;
  /** … and what one unit is. */
  unit: "order" | "request" | "transaction";
  /** null: not read (the pgbench baseline has its own database). */
  pg: PgDelta | null;
}

export interface Meter {
  /** Ends the window; the units are filled in by the caller once it knows them. */
  stop(name: string, kind: PhaseCost["kind"], unit: PhaseCost["unit"]): Promise<PhaseCost>;
}

/** Starts a cost window: PostgreSQL readings outside it, CPU snapshots inside, so the readings cost nothing here. */
export async function startMeter(db: ShopDb | undefined, withStatements: boolean, sampleMs?: number): Promise<Meter> {
  const before = db ? await readPg(db, withStatements) : undefined;
  const cpu = cpuWindow(sampleMs);
  return {
    async stop(name, kind, unit) {
      const usage = cpu.stop();
      const pg = db && before ? pgDelta(before, await readPg(db, withStatements)) : null;
      return { name, kind, wallS: usage.wallS, cpuS: usage.cpuS, units: 0, unit, pg };
    },
  };
}

/** CPU milliseconds per unit, per group. */
export function msPerUnit(cost: PhaseCost): Record<CpuGroup, number> {
  return Object.fromEntries(CPU_GROUPS.map((g) => [g, cost.units > 0 ? (cost.cpuS[g] * 1000) / cost.units : Number.NaN])) as Record<CpuGroup, number>;
}

/** shop + pg + mq CPU ms per unit: what the system under test spent. */
export function systemMsPerUnit(cost: PhaseCost): number {
  const per = msPerUnit(cost);
  return per.shop + per.pg + per.mq;
}

/** Percent of one core per group over the phase. */
export function corePercent(cost: PhaseCost, group: CpuGroup): number {
  return cost.wallS > 0 ? (cost.cpuS[group] / cost.wallS) * 100 : Number.NaN;
}
