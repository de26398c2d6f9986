/** Command-line options of `npm run bench`, with their defaults and the usage text. */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";

interface IntSpec {
  flag: string;
  default: number | undefined;
  min: number;
  max: number;
  help: string;
}

/** Every integer option: name, default (undefined: unset unless given), range, and its line in --help. */
const INTS = {
  pgbenchSeconds: { flag: "pgbench-seconds", default: 10, min: 0, max: 600, help: "pgbench baseline duration; 0 skips it" },
  orders: { flag: "orders", default: 3000, min: 0, max: 1_000_000, help: "burst: orders to place; 0 skips the burst" },
  concurrency: { flag: "concurrency", default: 64, min: 1, max: 1024, help: "burst: POST /orders in flight (closed loop)" },
  placementSeconds: { flag: "placement-seconds", default: 30, min: 1, max: 3600, help: "burst: no new order after N s, however many are left" },
  rate: { flag: "rate", default: 150, min: 1, max: 100_000, help: "open loop: orders per second at fixed arrival times; with --capacity the first step (then default 100)" },
  seconds: { flag: "seconds", default: 10, min: 0, max: 3600, help: "open loop: duration of the run; 0 skips it" },
  stepSeconds: { flag: "step-seconds", default: 10, min: 1, max: 600, help: "capacity: duration of each rate step" },
  capacityBudget: { flag: "capacity-budget", default: 180, min: 5, max: 7200, help: "capacity: total seconds for the search (steps, drains)" },
  sloMs: { flag: "slo-ms", default: 250, min: 1, max: 60_000, help: "capacity: a step passes when place→confirmed p99 is below this" },
  backlogSeconds: { flag: "backlog-seconds", default: 1, min: 0, max: 60, help: "a backlog 'grows' when it rose by more than N s of arrivals (min 10)" },
  readSeconds: { flag: "read-seconds", default: 5, min: 0, max: 600, help: "duration of each read phase; 0 skips the reads" },
  readConcurrency: { flag: "read-concurrency", default: 32, min: 1, max: 1024, help: "requests in flight in the read phases" },
  products: { flag: "products", default: 20, min: 1, max: 10_000, help: "products in the catalog" },
  customers: { flag: "customers", default: 8, min: 1, max: 10_000, help: "distinct customers placing orders" },
  sagaTimeout: { flag: "saga-timeout", default: 60, min: 1, max: 3600, help: "seconds to wait for orders to be final / the system to drain" },
} satisfies Record<string, IntSpec>;

type IntName = keyof typeof INTS;

export const USAGE = [
  "Usage: npm run bench -- [options]      (bun scripts/bench.ts [options])",
  "",
  "Default run: pgbench baseline, burst, open-loop run, reads. With --capacity: pgbench baseline, capacity search.",
  ...Object.values(INTS).map((o) => `  --${`${o.flag} N`.padEnd(21)} ${o.help} (default ${o.default ?? "unset"})`),
  `  ${"--capacity".padEnd(23)} search the highest sustainable rate instead of burst, open loop and reads (default off)`,
  `  ${"--split".padEnd(23)} MODULES=orders in one process, inventory,notification in another (default off)`,
  `  ${"--binary PATH".padEnd(23)} run the compiled binary (e.g. dist/shop) instead of bun src/main.ts (default unset)`,
  `  ${"--results-dir DIR".padEnd(23)} where results.json and report.html go, in <ISO time>-<mode>/ (default bench-results)`,
  `  ${"-h, --help".padEnd(23)} this text`,
].join("\n");

export type Options = Record<Exclude<IntName, "rate">, number> & {
  /** Open-loop rate; the capacity search starts at it when it was given, else at 100/s. */
  rate: number;
  rateGiven: boolean;
  capacity: boolean;
  split: boolean;
  binary: string | undefined;
  resultsDir: string;
};

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function int(spec: IntSpec, raw: string | undefined): number | undefined {
  if (raw === undefined) return spec.default;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < spec.min || n > spec.max) fail(`--${spec.flag} must be an integer from ${spec.min} to ${spec.max} (got "${raw}")`);
  return n;
}

export function parseOptions(argv: string[], root: string): Options {
  const intOptions = Object.fromEntries(Object.values(INTS).map((o) => [o.flag, { type: "string" as const }]));
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        ...intOptions,
        capacity: { type: "boolean", default: false },
        split: { type: "boolean", default: false },
        binary: { type: "string" },
        "results-dir": { type: "string", default: "bench-results" },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    fail((error as Error).message);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const ints = Object.fromEntries(
    (Object.entries(INTS) as Array<[IntName, IntSpec]>).map(([name, spec]) => [name, int(spec, values[spec.flag] as string | undefined)]),
  ) as Record<IntName, number | undefined>;
  const binary = typeof values.binary === "string" ? resolve(values.binary) : undefined;
  if (binary !== undefined && !existsSync(binary)) fail(`--binary ${values.binary}: not found (npm run build makes dist/shop)`);
  const capacity = values.capacity === true;
  const rateGiven = values.rate !== undefined;
  return {
    ...(ints as Record<IntName, number>),
    rate: capacity && !rateGiven ? 100 : ints.rate!,
    rateGiven,
    capacity,
    split: values.split === true,
    binary,
    resultsDir: resolve(root, values["results-dir"] as string),
  };
}
