import { Counter, Histogram, type Registry } from "prom-client";

/** What one module's relay records. */
export interface RelayMetrics {
  /** Events handed to the broker. */
  published(count: number): void;
  /** Events the broker confirmed (and the relay marked sent). */
  confirmed(count: number): void;
  /** Events whose publish failed (left unsent for a later pass). */
  failed(count: number): void;
}

/** What one module's consumer records. */
export interface ConsumerMetrics {
  /** Deliveries applied now (their inbox record and effects committed). */
  handled(count: number): void;
  /** Deliveries the inbox already had: skipped. */
  duplicates(count: number): void;
  /** Deliveries sent to a retry queue after their handler failed. */
  retried(): void;
  /** Deliveries parked in the dead-letter queue (invalid, or failed after the last retry). */
  parked(): void;
  /** How long one batch took to apply, in seconds. */
  batch(seconds: number): void;
}

export interface MessagingMetrics {
  relay(module: string): RelayMetrics;
  consumer(module: string): ConsumerMetrics;
}

/** The relays' and consumers' counters and the handler latency, by module, in `registry`. */
export function messagingMetrics(registry: Registry): MessagingMetrics {
  const counter = (name: string, help: string) => new Counter({ name, help, labelNames: ["module"] as const, registers: [registry] });
  const published = counter("shop_outbox_published_total", "Outbox events the relay handed to RabbitMQ.");
  const confirmed = counter("shop_outbox_confirmed_total", "Outbox events RabbitMQ confirmed; the relay marked them sent.");
  const failed = counter("shop_outbox_publish_failed_total", "Outbox events whose publish failed; they stay unsent for a later pass.");
  const handled = counter("shop_messages_handled_total", "Deliveries applied by the module's handlers (inbox record and effects committed).");
  const duplicates = counter("shop_messages_duplicate_total", "Deliveries the module's inbox had already applied: skipped.");
  const retried = counter("shop_messages_retried_total", "Deliveries whose handler failed, sent to a retry queue.");
  const parked = counter("shop_messages_parked_total", "Deliveries parked in the module's dead-letter queue (invalid, or failed after the last retry).");
  const batch = new Histogram({
    name: "shop_message_batch_duration_seconds",
    help: "Time to apply one batch of deliveries in one transaction (inbox, handlers, emitted events, commit), per batch not per message.",
    labelNames: ["module"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    relay(module) {
      const [p, c, f] = [published.labels(module), confirmed.labels(module), failed.labels(module)];
      // Every series from the start at 0: a rate or an alert on it needs a value before the first event.
      for (const series of [p, c, f]) series.inc(0);
      return { published: (n) => p.inc(n), confirmed: (n) => c.inc(n), failed: (n) => f.inc(n) };
    },
    consumer(module) {
      const [h, d, r, k, b] = [handled.labels(module), duplicates.labels(module), retried.labels(module), parked.labels(module), batch.labels(module)];
      for (const series of [h, d, r, k]) series.inc(0);
      return {
        handled: (n) => h.inc(n),
        duplicates: (n) => d.inc(n),
        retried: () => r.inc(),
        parked: () => k.inc(),
        batch: (seconds) => b.observe(seconds),
      };
    },
  };
}
