/**
 * Capacity search: open-loop steps of --step-seconds at a fixed rate. The rate grows ×1.5 while steps pass
 * (or halves until one passes), then bisects between the highest pass and the lowest fail until they are
 * within 10 %, all within --capacity-budget seconds. A step passes when place→confirmed p99 < --slo-ms, no
 * backlog grew during it, every POST got its 201, and the system drained afterwards (which the next step
 * needs: it starts from an empty system).
 */
import { GROWTH_RULE } from "./backlog.ts";
import type { Options } from "./options.ts";
import { runOpenLoop, stepLine, type StepResult } from "./open-loop.ts";
import type { Accepted } from "./orders.ts";
import type { Shop } from "./setup.ts";

export interface CapacityResult {
  steps: StepResult[];
  /** The highest rate that passed (orders/s); null when none did. */
  capacity: number | null;
  /** The lowest rate that failed above it; null when none did (the search ran out of budget first). */
  lowestFail: number | null;
  stoppedBecause: string;
  elapsedS: number;
  rule: string;
}

const RESOLUTION = 1.1;

function nextRate(lo: number | undefined, hi: number | undefined): number | undefined {
  if (hi === undefined) return Math.ceil(lo! * 1.5);
  if (lo === undefined) return hi <= 1 ? undefined : Math.max(1, Math.floor(hi / 2));
  if (hi / lo <= RESOLUTION || hi - lo <= 1) return undefined;
  return Math.round((lo + hi) / 2);
}

export function passRule(options: Options): string {
  return `a step passes when place→confirmed p99 < ${options.sloMs} ms, no backlog grows, no POST fails, and the system drains after it; ${GROWTH_RULE(options.backlogSeconds)}`;
}

export async function capacitySearch(shop: Shop, options: Options, accepted: Accepted): Promise<CapacityResult> {
  console.log(`· capacity search from ${options.rate}/s, ${options.stepSeconds} s steps, budget ${options.capacityBudget} s`);
  console.log(`  ${passRule(options)}`);
  const started = performance.now();
  const elapsedS = () => (performance.now() - started) / 1000;
  const steps: StepResult[] = [];
  let lo: number | undefined;
  let hi: number | undefined;
  let rate: number | undefined = options.rate;
  let stoppedBecause = "resolution reached (highest pass and lowest fail within 10 %)";
  while (rate !== undefined) {
    const remainingS = options.capacityBudget - elapsedS();
    if (remainingS < options.stepSeconds + 2) {
      stoppedBecause = `budget of ${options.capacityBudget} s used`;
      break;
    }
    const drainTimeoutS = Math.max(5, Math.min(options.sagaTimeout, remainingS - options.stepSeconds));
    const step = await runOpenLoop(shop, accepted, {
      label: `step ${steps.length + 1}: ${rate}/s`, kind: "step", rate, seconds: options.stepSeconds, drainTimeoutS,
      backlogSeconds: options.backlogSeconds, sloMs: options.sloMs,
    });
    steps.push(step);
    console.log(`  ${stepLine(step)}`);
    if (step.pass) lo = Math.max(lo ?? 0, rate);
    else hi = Math.min(hi ?? Number.POSITIVE_INFINITY, rate);
    if (!step.drained) {
      stoppedBecause = "the system did not drain after a step";
      break;
    }
    rate = nextRate(lo, hi);
  }
  return { steps, capacity: lo ?? null, lowestFail: hi ?? null, stoppedBecause, elapsedS: elapsedS(), rule: passRule(options) };
}
