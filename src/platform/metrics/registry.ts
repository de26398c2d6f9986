import { Registry, collectDefaultMetrics } from "prom-client";

/**
 * The metrics of one shop process: a registry of its own (never prom-client's global one, so that several shops in
 * one process — the tests — keep their counts apart), with the process metrics prom-client collects on Bun:
 * CPU, resident memory, heap, event-loop lag, open file descriptors. Bun has no GC observer, so there are no GC metrics.
 */
export function createMetricsRegistry(options: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  // Off for a one-off command (`shop check`): nothing scrapes it.
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}

export type { Registry };
