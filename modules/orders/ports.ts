import type { Executor, Writes } from "../../src/platform/db.ts";
import type { Logger } from "../../src/platform/logger.ts";
import type { Outbox } from "../../src/platform/messaging/outbox.ts";
import type { CountMetric, ObserveMetric } from "../../src/platform/metrics/module-metrics.ts";
import type { ExistingKey } from "./domain/idempotency-key.ts";
import type { Order, StatusChange } from "./domain/order.ts";
import type { OrderStatus } from "./domain/order-status.ts";
import type { CatalogEntry } from "./domain/pricing.ts";

/**
 * What the orders use cases need from the outside, in their own terms. infrastructure/ implements these
 * interfaces; index.ts hands the implementations to the use cases as `deps` (an `OrdersDeps`, or the part of
 * it a use case names). Use cases import only domain/, this file and src/platform/ (docs/architecture.md).
 */
export interface OrdersDeps {
  /** The pool, or an open transaction (what is written then commits with it). */
  db: Executor;
  orders: OrderRepository;
  catalog: CatalogRepository;
  idempotencyKeys: IdempotencyKeyRepository;
  outbox: Outbox;
  logger: Logger;
  metrics: OrdersMetrics;
  /** Units of one sku a customer may hold in pending and confirmed orders (ORDERS_MAX_OPEN_UNITS_PER_SKU); 0 or absent: no cap. */
  maxOpenUnitsPerSku?: number;
}

/**
 * Word that an order's status changed, from whichever instance changed it: a wake-up only, the subscriber reads the
 * order again. `version` is the order's version after the change, or undefined when changes may have been missed
 * (the listener reconnected) and the subscriber must read again whatever it has seen.
 */
export interface OrderChanges {
  /** Calls `onChange` until the returned unsubscribe is called. */
  subscribe(orderId: string, onChange: (version: number | undefined) => void): () => void;
}

/** What orders counts, each once the change is committed. */
export interface OrdersMetrics {
  placed: CountMetric;
  confirmed: CountMetric;
  rejected: CountMetric;
  cancelled: CountMetric;
  shipped: CountMetric;
  /** Seconds from an order's placement (its createdAt) to its confirmation. */
  confirmationSeconds: ObserveMetric;
}

/** An order as lists show it: everything but the history. */
export type OrderSummary = Omit<Order, "history">;

/** Where a page of a list starts: just after this (createdAt, id), in descending order. */
export interface OrderPosition {
  createdAt: Date;
  id: string;
}

export interface OrderListQuery {
  /** Only this customer's orders; every customer's when absent. */
  customerId?: string;
  status?: OrderStatus;
  after?: OrderPosition;
  limit: number;
}

/** A pending order that should have settled: its placement was sent, no answer came. */
export interface UnsettledOrder {
  id: string;
  /** As the database prints it. */
  createdAt: string;
}

/** Orders, their lines and their status history. */
export interface OrderRepository {
  /**
   * The statements that store a new order with its lines and history and add its units to what the customer holds
   * (open_units), to run with its event (Outbox.insertWith). Fails with the constraint `open_units_within_cap` when
   * that would take the customer over `maxOpenUnitsPerSku` of a sku (0: no cap): then nothing is written.
   */
  insertWrites(order: Order, maxOpenUnitsPerSku: number): Writes;
  findById(db: Executor, id: string): Promise<Order | undefined>;
  /** The orders of `ids` that exist, by id. */
  findMany(db: Executor, ids: string[]): Promise<Map<string, Order>>;
  /** A page of orders, newest first. */
  list(db: Executor, query: OrderListQuery): Promise<OrderSummary[]>;
  /** Saves a transition unless the order changed since `previous` was read; false when it had. */
  saveTransition(tx: Executor, previous: Pick<Order, "id" | "status" | "version">, next: Order, change: StatusChange): Promise<boolean>;
  /** Saves every transition, or none (false) when any order changed since it was read. */
  saveTransitions(
    tx: Executor,
    writes: ReadonlyArray<{ previous: Pick<Order, "id" | "status" | "version">; next: Order; change: StatusChange }>,
  ): Promise<boolean>;
  /** Units of each of `skus` the customer holds in pending and confirmed orders (skus they hold none of are left out). */
  heldUnits(db: Executor, customerId: string, skus: readonly string[]): Promise<Map<string, number>>;
  /** Up to 100 (customer, sku) whose counted open units differ from the units of their pending and confirmed orders. */
  findUnitsDrift(db: Executor): Promise<UnitsDrift[]>;
  /** Up to 100 orders pending for longer than `settleMs` whose order-placed event has left the outbox, oldest first. */
  findUnsettled(db: Executor, settleMs: number): Promise<UnsettledOrder[]>;
}

/** Where open_units has drifted from the orders: `counted` there, `held` in pending and confirmed orders. */
export interface UnitsDrift {
  customerId: string;
  sku: string;
  counted: number;
  held: number;
}

/** The local copy of inventory's catalog that orders are priced from. */
export interface CatalogRepository {
  /** Records an entry unless the stored one is newer (product version, then `changedAt`); false when ignored. */
  upsert(tx: Executor, entry: CatalogEntry & { version?: number }, changedAt: Date): Promise<boolean>;
  findBySkus(db: Executor, skus: readonly string[]): Promise<Map<string, CatalogEntry>>;
}

/** One request's hold on a key: only the holder may complete or release it. */
export interface IdempotencyClaim {
  customerId: string;
  key: string;
  claimId: string;
}

/** The `Idempotency-Key`s of POST /orders. */
export interface IdempotencyKeyRepository {
  /** Forgets this customer's keys older than `retentionMs`. Returns how many were deleted. */
  deleteExpired(db: Executor, customerId: string, retentionMs: number): Promise<number>;
  /**
   * Claims the key as in flight, committed at once (call it on the pool), or takes over a claim for the same
   * request that has been in flight longer than `abandonedAfterMs`. False when the key is held or was used.
   */
  claim(db: Executor, claim: IdempotencyClaim & { requestHash: string; abandonedAfterMs: number }): Promise<boolean>;
  find(db: Executor, customerId: string, key: string): Promise<ExistingKey | undefined>;
  /**
   * Stores the order the request placed and marks the key completed, in the order's transaction. False when
   * the claim is no longer ours: the caller must then roll back, or the key would stand for two orders.
   */
  complete(tx: Executor, claim: IdempotencyClaim, placed: Order): Promise<boolean>;
  /** Gives the key up after a request that changed nothing failed, so a retry can run it again. */
  release(db: Executor, claim: IdempotencyClaim): Promise<void>;
}
