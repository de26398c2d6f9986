import type { Database, Executor, Transaction } from "../../src/platform/db.ts";
import type { Logger } from "../../src/platform/logger.ts";
import type { Outbox } from "../../src/platform/messaging/outbox.ts";
import type { CatalogChange, CatalogFields, Product } from "./domain/product.ts";
import type { StockLine } from "./domain/reservation-plan.ts";
import type { SkuAvailability } from "./domain/shortages.ts";
import type { CountMetric } from "../../src/platform/metrics/module-metrics.ts";

/**
 * What the inventory use cases need from the outside, in their own terms. infrastructure/ implements these
 * interfaces; index.ts hands the implementations to the use cases as `deps` (an `InventoryDeps`, or the part of
 * it a use case names). Use cases import only domain/, this file and src/platform/ (docs/architecture.md).
 */
export interface InventoryDeps {
  db: Database;
  products: ProductRepository;
  reservations: ReservationRepository;
  outbox: Outbox;
  logger: Logger;
  metrics: InventoryMetrics;
}

/** What inventory counts, each once the change is committed. */
export interface InventoryMetrics {
  /** Placements whose every line was reserved. */
  reservationsMade: CountMetric;
  /** Placements refused for lack of stock (the order is rejected). */
  reservationsRejected: CountMetric;
}

/** The catalog and its stock. Every stock change is one conditional statement: no overselling. */
export interface ProductRepository {
  find(db: Executor, sku: string): Promise<Product | undefined>;
  /** Products after `afterSku` (keyset), in sku order: the active ones, or retired ones too. */
  list(db: Executor, page: { afterSku?: string; limit: number; includeRetired: boolean }): Promise<Product[]>;
  /**
   * Creates the product from `creation`'s values, or changes an existing one's name and price (and `active` when
   * given) and nothing else. When `change.currency` is given and differs from the stored one, nothing is written
   * and the answer is undefined (the row stays locked until the transaction ends).
   */
  upsert(
    db: Executor,
    change: CatalogChange,
    creation: { currency: string; active: boolean; onHand: number },
  ): Promise<{ product: Product; created: boolean } | undefined>;
  /** Adds `delta` to on-hand stock unless that would leave less than is reserved; undefined when refused or unknown. */
  adjustOnHand(db: Executor, sku: string, delta: number): Promise<Product | undefined>;
  /** Gives reserved units back to the available stock. */
  release(db: Executor, sku: string, quantity: number): Promise<void>;
  /** Reserved units leave the warehouse: both on-hand and reserved drop, available stays as it was. */
  consume(db: Executor, sku: string, quantity: number): Promise<void>;
  isEmpty(db: Executor): Promise<boolean>;
  /** Inserts the products whose sku is not taken yet; returns only those it inserted. */
  insertMissing(db: Executor, rows: (CatalogFields & { onHand: number })[]): Promise<Product[]>;
  /** Products whose `reserved` differs from the sum of their held reservations (the reconciliation check). */
  findReservedMismatches(db: Executor): Promise<Array<{ sku: string; reserved: number; held: number }>>;
  /** Products with a negative stock figure or fewer on hand than reserved (the constraints forbid it). */
  findNegativeStock(db: Executor): Promise<Array<{ sku: string; onHand: number; reserved: number }>>;
}

/** What the orders' placements found, read under the locks of `lockForPlacement`. */
export interface PlacementState {
  /** Orders whose cancel arrived before their placement. */
  cancelled: Set<string>;
  /** Orders that already hold reservations (whatever their status). */
  reserved: Set<string>;
  /** Activity and available units of each known sku among those asked for. */
  stock: Map<string, SkuAvailability>;
}

/** What each order holds of each sku, and the cancels that overtook their placements. */
export interface ReservationRepository {
  /** Serialises everything done for one order until the transaction ends. */
  lockOrder(tx: Transaction, orderId: string): Promise<void>;
  lockOrders(tx: Transaction, orderIds: string[]): Promise<void>;
  /** Locks the skus' rows and reads what placing these orders needs to know. */
  lockForPlacement(tx: Transaction, orderIds: string[], skus: string[]): Promise<PlacementState>;
  /** Takes each hold's units from the available stock and records them as held, in one statement. */
  reserveAndHold(tx: Transaction, holds: Array<{ orderId: string; lines: StockLine[] }>): Promise<void>;
  exists(db: Executor, orderId: string): Promise<boolean>;
  /** Settles the order's held reservations as released or consumed; returns the lines it settled. */
  settleHeld(db: Executor, orderId: string, status: "released" | "consumed"): Promise<StockLine[]>;
  /** Remembers a cancel that arrived before its placement, so the placement reserves nothing. */
  rememberCancelled(db: Executor, orderId: string): Promise<void>;
}
