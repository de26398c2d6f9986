/**
 * What the run must undo, whatever happens: the shop processes it started, the databases it created, the
 * broker objects under its AMQP prefix. `cleanup()` undoes them once, each step bounded in time; Ctrl-C
 * (SIGINT/SIGTERM) aborts the run and cleans up; a second Ctrl-C exits at once.
 */
import { resolve } from "node:path";
import { MODULE_NAMES } from "../../src/config.ts";
import { deleteBrokerObjects } from "../../src/test-support/broker.ts";
import type { TestDatabase } from "../../src/test-support/database.ts";
import type { Subprocess } from "bun";

export const ROOT = resolve(import.meta.dir, "../..");
export const PG_ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
/** The shop's default, passed explicitly so cleanup knows the retry queues. */
export const RETRY_DELAYS_MS = [1000, 5000, 30000];

/** Aborted on Ctrl-C: every wait and request of the run gives up. */
export const aborted = new AbortController();

export const run = {
  spawned: [] as ShopProcess[],
  /** The shop's database (and the pgbench baseline's while it exists): dropped by cleanup. */
  databases: [] as TestDatabase[],
  prefix: undefined as string | undefined,
  /** Closers of the run's own connections (database, broker), called before the drops. */
  closers: [] as Array<() => Promise<void>>,
};

export function throwIfAborted(): void {
  if (aborted.signal.aborted) throw new Error("interrupted");
}

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

let cleaning: Promise<void> | undefined;

/** Stops the shop processes (SIGTERM, SIGKILL after 15 s), drops the databases, deletes the broker objects. Once. */
export function cleanup(): Promise<void> {
  return (cleaning ??= (async () => {
    await Promise.all(run.spawned.map((p) => step(`stop ${p.name} (pid ${p.proc.pid})`, () => p.stop())));
    await Promise.all(run.closers.map((close) => step("close a connection", close, 5_000)));
    for (const db of run.databases) await step(`drop database ${db.name}`, () => db.drop());
    if (run.prefix) {
      const p = run.prefix;
      await step(`delete broker objects under ${p}`, () => deleteBrokerObjects(p, [...MODULE_NAMES], RETRY_DELAYS_MS));
    }
  })());
}

export function installSignalHandlers(): void {
  let interrupts = 0;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      interrupts += 1;
      if (interrupts > 1) {
        const left = `databases ${run.databases.map((d) => d.name).join(", ") || "-"}, prefix ${run.prefix ?? "-"}`;
        console.error(`${signal} again: exiting without finishing cleanup (${left} may be left)`);
        process.exit(130);
      }
      console.error(`\n${signal}: stopping the shop, dropping the databases and the broker objects…`);
      aborted.abort();
      void cleanup().finally(() => process.exit(130));
    });
  }
}

/** A shop process the bench started (processes.ts starts them). */
export interface ShopProcess {
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
