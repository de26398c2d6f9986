import { Registry } from "prom-client";
import { moduleMetrics, type ModuleMetrics } from "../platform/metrics/module-metrics.ts";

/** A module's metrics in a registry of their own, for tests that build a module or its use cases without a shop. */
export function testModuleMetrics(module: string): ModuleMetrics {
  return moduleMetrics(new Registry(), module);
}
