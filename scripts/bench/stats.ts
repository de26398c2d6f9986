/** Percentiles, status counting and number formatting. */
import type { Answer } from "./http.ts";

export interface Stats {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles. Infinity is a valid sample (an order never confirmed) and sorts last. */
export function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
  return { count: sorted.length, p50: at(50), p90: at(90), p99: at(99), max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN };
}

/** Latencies and status counts of a set of requests. */
export class Recorder {
  readonly latencies: number[] = [];
  readonly statuses = new Map<string, number>();

  record(answer: Answer, latencyMs = answer.ms): void {
    this.latencies.push(latencyMs);
    const key = answer.status === 0 ? `ERR:${answer.error ?? "?"}` : String(answer.status);
    this.statuses.set(key, (this.statuses.get(key) ?? 0) + 1);
  }

  count(status: number): number {
    return this.statuses.get(String(status)) ?? 0;
  }

  /** Answers other than `ok`. */
  errors(ok: number): number {
    return this.latencies.length - this.count(ok);
  }

  statusText(): string {
    return [...this.statuses.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([s, n]) => `${s}×${n}`)
      .join(" ");
  }

  toJSON() {
    return { stats: stats(this.latencies), statuses: Object.fromEntries(this.statuses) };
  }
}

/** Milliseconds: "-" when unknown, "∞" for never. */
export const ms = (n: number) => (n === Number.POSITIVE_INFINITY ? "∞" : Number.isFinite(n) ? (n >= 100 ? n.toFixed(0) : n.toFixed(1)) : "-");
/** A figure with about three significant digits; "-" when unknown. */
export const num = (n: number | null | undefined) =>
  n === null || n === undefined || !Number.isFinite(n) ? "-" : Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2);
export const sum = (values: Iterable<number>) => {
  let total = 0;
  for (const v of values) total += v;
  return total;
};

/** Seeded, so two runs place the same orders. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A console table: first column and last column left-aligned, the others right-aligned. */
export function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows.map((r) =>
    r.map((cell, c) => (c === 0 || c === r.length - 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ").trimEnd(),
  );
}
