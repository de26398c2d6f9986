import { asc, eq, sql } from "drizzle-orm";
import { migrateModule, openDatabase, type DatabaseHandle } from "../../../src/platform/db.ts";
import { createLogger } from "../../../src/platform/logger.ts";
import type { Envelope } from "../../../src/platform/messaging/envelope.ts";
import type { EventData, EventDefinition } from "../../../src/platform/messaging/event.ts";
import { applyEvents } from "../../../src/platform/messaging/apply-event.ts";
import { createOutbox } from "../../../src/platform/messaging/outbox.ts";
import type { ShopModule } from "../../../src/platform/module.ts";
import { inventoryModule, type InventorySettings } from "../index.ts";
import { inbox, outbox, products, reservations } from "../infrastructure/schema.ts";
import { testModuleMetrics } from "../../../src/test-support/metrics.ts";
import { createAuthenticator } from "../../../src/platform/http/authenticator.ts";

export const TEST_AUTH_SECRET = "inventory-test-secret-0123456789abcdef";

export interface InventoryHarness {
  database: DatabaseHandle;
  module: ShopModule;
  close(): Promise<void>;
}

/** Opens the (fresh) database at `url`, migrates the inventory schema and builds the module against it (with `settings`: its limits). */
export async function openInventory(url: string, settings?: InventorySettings): Promise<InventoryHarness> {
  const database = openDatabase(url, { max: 25, applicationName: "inventory-tests" });
  const module = inventoryModule.create({ database, logger: createLogger("silent"), authenticator: createAuthenticator({ secret: TEST_AUTH_SECRET }), metrics: testModuleMetrics("inventory"), settings });
  await migrateModule(database, "inventory", module.migrationsFolder);
  return { database, module, close: () => database.close() };
}

/**
 * Delivers one event to the module's handler the way the platform consumer does: the inbox record, the
 * handler's writes and the events it emits commit together, and a message id seen before is a no-op.
 * Returns false for such a duplicate.
 */
export async function deliver<E extends EventDefinition>(
  harness: InventoryHarness,
  event: E,
  data: EventData<E>,
  options: { messageId?: string } = {},
): Promise<boolean> {
  const [applied] = await deliverBatch(harness, [{ event, data, messageId: options.messageId }]);
  return applied!;
}

/**
 * Delivers several events in one batch, the way the platform consumer does under load: one transaction, each
 * message once. Returns, per event, whether it was applied (false for a duplicate message id).
 */
export async function deliverBatch(
  harness: InventoryHarness,
  batch: Array<{ event: EventDefinition; data: unknown; messageId?: string }>,
): Promise<boolean[]> {
  const events = createOutbox(harness.module.outboxTable, "inventory");
  const deliveries = batch.map(({ event, data, messageId }) => {
    const handler = harness.module.handlers.find((h) => h.event.name === event.name && h.event.version === event.version);
    if (!handler) throw new Error(`inventory has no handler for ${event.name}`);
    const envelope: Envelope = {
      id: messageId ?? Bun.randomUUIDv7(),
      name: event.name,
      version: event.version,
      occurredAt: new Date().toISOString(),
      source: "orders",
      correlationId: `test-${Bun.randomUUIDv7()}`,
      data,
    };
    return { handler, envelope };
  });
  return applyEvents({ module: "inventory", database: harness.database, inbox, outbox: events }, deliveries);
}

/** The `data` of every event of `event`'s name in the inventory outbox, oldest first, optionally for one order. */
export async function emitted<E extends EventDefinition>(harness: InventoryHarness, event: E, orderId?: string): Promise<EventData<E>[]> {
  const rows = await harness.database.db
    .select({ envelope: outbox.envelope })
    .from(outbox)
    .where(orderId === undefined ? eq(outbox.name, event.name) : sql`${outbox.name} = ${event.name} and ${outbox.envelope} -> 'data' ->> 'orderId' = ${orderId}`)
    .orderBy(asc(outbox.createdAt), asc(outbox.id));
  return rows.map((row) => row.envelope.data as EventData<E>);
}

/** Creates a product straight in the table (random sku unless given) and returns its sku. */
export async function givenProduct(
  harness: InventoryHarness,
  stock: { onHand: number; reserved?: number; active?: boolean; sku?: string; priceCents?: number },
): Promise<string> {
  const sku = stock.sku ?? `SKU-${crypto.randomUUID().slice(0, 8).toUpperCase()}`;
  await harness.database.db.insert(products).values({
    sku,
    name: `Product ${sku}`,
    priceCents: stock.priceCents ?? 1000,
    currency: "EUR",
    active: stock.active ?? true,
    onHand: stock.onHand,
    reserved: stock.reserved ?? 0,
  });
  return sku;
}

export async function stockOf(harness: InventoryHarness, sku: string): Promise<{ onHand: number; reserved: number }> {
  const [row] = await harness.database.db.select({ onHand: products.onHand, reserved: products.reserved }).from(products).where(eq(products.sku, sku));
  if (!row) throw new Error(`no product ${sku}`);
  return row;
}

export async function reservationsOf(harness: InventoryHarness, orderId: string) {
  return harness.database.db
    .select({ sku: reservations.sku, quantity: reservations.quantity, status: reservations.status })
    .from(reservations)
    .where(eq(reservations.orderId, orderId))
    .orderBy(asc(reservations.sku));
}

/** An `orders.order-placed` payload for `lines` (prices are irrelevant to inventory). */
export function placedOrder(lines: { sku: string; quantity: number }[], orderId: string = Bun.randomUUIDv7()) {
  const items = lines.map((line) => ({ ...line, name: line.sku, unitPriceCents: 100, lineTotalCents: 100 * line.quantity }));
  return {
    orderId,
    customerId: "alice",
    customerEmail: "alice@example.com",
    items,
    totalCents: items.reduce((sum, item) => sum + item.lineTotalCents, 0),
    currency: "EUR",
  };
}
