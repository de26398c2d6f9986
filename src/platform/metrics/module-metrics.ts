import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** A counter a module increments where it does the work. */
export interface CountMetric {
  inc(value?: number): void;
}

/** A histogram a module observes a duration (in seconds) or another amount into. */
export interface ObserveMetric {
  observe(value: number): void;
}

/**
 * What a module records its own metrics through (its context's `metrics`): the module names what it counts, the
 * platform puts it in the process's registry as `shop_<module>_<name>`. Modules never see prom-client.
 */
export interface ModuleMetrics {
  /** `name` ends in `_total` (Prometheus naming). */
  counter(name: string, help: string): CountMetric;
  /** `name` ends in its unit, e.g. `_seconds`; `buckets` are the upper bounds. */
  histogram(name: string, help: string, buckets: readonly number[]): ObserveMetric;
  /** A value read when /metrics is scraped (e.g. how many streams are open now). */
  gauge(name: string, help: string, read: () => number): void;
}

/** The module's metrics in `registry`, each named `shop_<module>_<name>`. */
export function moduleMetrics(registry: Registry, module: string): ModuleMetrics {
  const fullName = (name: string) => `shop_${module}_${name}`;
  return {
    counter: (name, help) => new Counter({ name: fullName(name), help, registers: [registry] }),
    histogram: (name, help, buckets) => new Histogram({ name: fullName(name), help, buckets: [...buckets], registers: [registry] }),
    gauge: (name, help, read) => {
      new Gauge({
        name: fullName(name),
        help,
        registers: [registry],
        collect() {
          this.set(read());
        },
      });
    },
  };
}
