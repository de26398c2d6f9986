import type { RateLimitSettings } from "../../src/platform/http/rate-limit.ts";
import { EventStreams } from "../../src/platform/http/event-streams.ts";
import { createOutbox } from "../../src/platform/messaging/outbox.ts";
import type { ModuleDefinition } from "../../src/platform/module.ts";
import { messagingRetention } from "../../src/platform/retention/messaging-rules.ts";
import { expireRows } from "../../src/platform/retention/rule.ts";
import { ProductUpserted, StockRejected, StockReserved } from "../inventory/contract.ts";
import { ordersEvents } from "./contract.ts";
import { checkOrderInvariants } from "./application/check-order-invariants.ts";
import { ordersHandlers } from "./handlers.ts";
import { ordersRoutes } from "./http.ts";
import { catalogRepository } from "./infrastructure/catalog-repository.ts";
import { idempotencyKeyRepository } from "./infrastructure/idempotency-key-repository.ts";
import { orderChanges } from "./infrastructure/order-changes.ts";
import { migrationsFolder } from "./infrastructure/migrations.ts";
import { supersededMigrations } from "./infrastructure/superseded-migrations.ts";
import { orderRepository } from "./infrastructure/order-repository.ts";
import { ordersMetrics } from "./infrastructure/orders-metrics.ts";
import { IDEMPOTENCY_KEY_RETENTION_MS } from "./domain/idempotency-key.ts";
import { idempotencyKeys, inbox, outbox } from "./infrastructure/schema.ts";
import type { OrdersDeps } from "./ports.ts";

/** Its settings, read for it from the configuration. Absent: no limits, and streams as DEFAULT_STREAM_SETTINGS. */
export interface OrdersSettings {
  /** POST /orders per customer (RATE_LIMIT_ORDERS). */
  placeRateLimit?: RateLimitSettings;
  /** Units of one sku a customer may hold in pending and confirmed orders; 0 = no cap (ORDERS_MAX_OPEN_UNITS_PER_SKU). */
  maxOpenUnitsPerSku?: number;
  /** GET /orders/:id/events (SSE_HEARTBEAT_INTERVAL, SSE_MAX_STREAMS). */
  statusStreams?: StatusStreamSettings;
}

/** The live status streams' settings. */
export interface StatusStreamSettings {
  heartbeatMs: number;
  maxStreams: number;
}

const DEFAULT_STREAM_SETTINGS: StatusStreamSettings = { heartbeatMs: 15_000, maxStreams: 1000 };
/** The `retry:` hint of a status stream: a client reconnects (with Last-Event-ID) this long after it dropped. */
const STREAM_RETRY_MS = 3000;

/**
 * Orders: customers place orders priced from a local copy of inventory's catalog; inventory's
 * reservation answer confirms or rejects them; customers cancel and admins ship them. Its use cases reach
 * the database through the ports in ports.ts, implemented in infrastructure/ and wired here.
 */
export const ordersModule: ModuleDefinition<OrdersSettings | undefined> = {
  name: "orders",
  publishes: ordersEvents,
  consumes: [ProductUpserted, StockReserved, StockRejected],
  retention: (periods) => [
    ...messagingRetention({ outbox, inbox }, periods),
    // A key means something for 24 h (README: Idempotency-Key); a customer's next keyed request removes their own
    // expired keys, this removes those of customers who never come back.
    expireRows({ table: idempotencyKeys, what: "Idempotency-Keys", since: "created_at", periodMs: IDEMPOTENCY_KEY_RETENTION_MS }),
  ],
  create({ database, background, logger, authenticator, metrics, settings }) {
    // On the background pool, whose one LISTEN connection the outbox relay shares.
    const changes = orderChanges({ sql: (background ?? database).sql, logger });
    const statusStreams = new EventStreams({ ...(settings?.statusStreams ?? DEFAULT_STREAM_SETTINGS), retryMs: STREAM_RETRY_MS, logger });
    metrics.gauge("status_streams_open", "GET /orders/:id/events streams open in this process", () => statusStreams.size);
    metrics.gauge("status_subscriptions", "orders followed for status changes (one per open stream; more means a leak)", () => changes.size);
    const deps: OrdersDeps = {
      db: database.db,
      orders: orderRepository,
      catalog: catalogRepository,
      idempotencyKeys: idempotencyKeyRepository,
      outbox: createOutbox(outbox, "orders"),
      logger,
      metrics: ordersMetrics(metrics),
      maxOpenUnitsPerSku: settings?.maxOpenUnitsPerSku ?? 0,
    };
    return {
      name: "orders",
      migrationsFolder,
      supersededMigrations,
      outboxTable: outbox,
      inboxTable: inbox,
      check: ({ settleMs }) => checkOrderInvariants(deps, settleMs),
      routes: ordersRoutes({ ...deps, authenticator, placeRateLimit: settings?.placeRateLimit, statusStreams, orderChanges: changes }),
      handlers: ordersHandlers(deps),
      loops: [changes],
      closeStreams: () => statusStreams.closeAll(),
    };
  },
};
