import type { ClientAddressSettings } from "../../src/platform/http/client-address.ts";
import type { RateLimitSettings } from "../../src/platform/http/rate-limit.ts";
import type { ModuleDefinition } from "../../src/platform/module.ts";
import { messagingRetention } from "../../src/platform/retention/messaging-rules.ts";
import { expireRows } from "../../src/platform/retention/rule.ts";
import { createOutbox } from "../../src/platform/messaging/outbox.ts";
import { inventoryMetrics } from "./infrastructure/inventory-metrics.ts";
import { OrderCancelled, OrderPlaced, OrderShipped } from "../orders/contract.ts";
import { inventoryEvents } from "./contract.ts";
import { checkStockInvariants } from "./application/check-stock-invariants.ts";
import { seedCatalog } from "./application/seed-catalog.ts";
import { inventoryHandlers } from "./handlers.ts";
import { inventoryRoutes } from "./http.ts";
import { migrationsFolder } from "./infrastructure/migrations.ts";
import { productRepository } from "./infrastructure/product-repository.ts";
import { reservationRepository } from "./infrastructure/reservation-repository.ts";
import { cancelledOrders, inbox, outbox } from "./infrastructure/schema.ts";
import type { InventoryDeps } from "./ports.ts";

/** Its settings, read for it from the configuration: RATE_LIMIT_PUBLIC, TRUSTED_PROXY_HEADER, TRUSTED_PROXY_HOPS. Absent: no limit. */
export interface InventorySettings {
  /** GET /products and GET /products/:sku per client address (one budget for both). */
  publicRateLimit?: RateLimitSettings;
  clientAddress?: ClientAddressSettings;
}

/**
 * The inventory module: owns the catalog and its stock, reserves stock for placed orders (all lines or none),
 * releases it on cancel and consumes it on shipping. Its use cases reach the database through the ports in
 * ports.ts, implemented in infrastructure/ and wired here.
 */
export const inventoryModule: ModuleDefinition<InventorySettings | undefined> = {
  name: "inventory",
  publishes: inventoryEvents,
  consumes: [OrderPlaced, OrderCancelled, OrderShipped],
  retention: (periods) => [
    ...messagingRetention({ outbox, inbox }, periods),
    // A marker stands for a cancel that overtook its placement. The placement occurred before the cancel, and the
    // consumer parks any event older than the inbox period instead of applying it: after that long no placement
    // can still be applied, so the marker has nothing left to stop.
    expireRows({ table: cancelledOrders, what: "cancelled-order markers", since: "cancelled_at", periodMs: periods.inboxMs }),
  ],
  create({ database, logger, authenticator, metrics, settings }) {
    const deps: InventoryDeps = {
      db: database.db,
      products: productRepository,
      reservations: reservationRepository,
      outbox: createOutbox(outbox, "inventory"),
      logger,
      metrics: inventoryMetrics(metrics),
    };
    return {
      name: "inventory",
      migrationsFolder,
      routes: inventoryRoutes({ ...deps, authenticator, publicRateLimit: settings?.publicRateLimit, clientAddress: settings?.clientAddress }),
      handlers: inventoryHandlers(deps),
      outboxTable: outbox,
      inboxTable: inbox,
      check: () => checkStockInvariants(deps),
      async seed() {
        const created = await seedCatalog(deps);
        if (created.length > 0) logger.info({ skus: created }, "demo catalog created");
      },
    };
  },
};
