import type { Executor } from "../../../src/platform/db.ts";
import type { EnvelopeMeta } from "../../../src/platform/messaging/envelope.ts";
import type { Outbox } from "../../../src/platform/messaging/outbox.ts";
import { ProductUpserted } from "../contract.ts";
import type { Product } from "../domain/product.ts";

/**
 * Queues `inventory.product-upserted` with the product's catalog fields in the caller's transaction, so the
 * other modules' copies (orders prices its lines from one) follow every committed catalog change.
 */
export async function announceProduct(outbox: Outbox, tx: Executor, product: Product, meta: EnvelopeMeta): Promise<void> {
  await outbox.add(
    tx,
    ProductUpserted,
    {
      sku: product.sku,
      name: product.name,
      priceCents: product.priceCents,
      currency: product.currency,
      active: product.active,
      version: product.version,
    },
    meta,
  );
}
