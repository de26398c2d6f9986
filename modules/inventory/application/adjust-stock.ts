import type { Database, Executor } from "../../../src/platform/db.ts";
import { ConflictError, InvalidError } from "../../../src/platform/errors.ts";
import { classify } from "../../../src/platform/failures.ts";
import type { EnvelopeMeta } from "../../../src/platform/messaging/envelope.ts";
import { adjustStock as checkAdjustment, availableStock } from "../domain/stock.ts";
import { announceProduct } from "./announce-product.ts";
import { productNotFound } from "./get-product.ts";
import type { Product } from "../domain/product.ts";
import type { InventoryDeps } from "../ports.ts";

const NUMERIC_VALUE_OUT_OF_RANGE = "22003";

/**
 * Adds `delta` (negative to remove) to a product's on-hand stock and announces the product. Refused with
 * ConflictError `INVENTORY.STOCK_BELOW_RESERVED` when fewer units than open orders hold would remain. The
 * check and the write are one conditional UPDATE, so a reservation committed meanwhile is always counted.
 */
export async function adjustStock(deps: Pick<InventoryDeps, "db" | "products" | "outbox">, sku: string, delta: number, meta: EnvelopeMeta): Promise<Product> {
  if (delta === 0) {
    throw new InvalidError("INVENTORY.ZERO_STOCK_DELTA", "A stock adjustment must change the stock.", {
      errors: [{ in: "body", field: "/delta", message: "Must not be 0" }],
    });
  }
  try {
    return await deps.db.transaction(async (tx) => {
      const adjusted = await deps.products.adjustOnHand(tx, sku, delta);
      if (!adjusted) throw await explainRefusal(deps, tx, sku, delta);
      await announceProduct(deps.outbox, tx, adjusted, meta);
      return adjusted;
    });
  } catch (error) {
    if (classify(error).code === NUMERIC_VALUE_OUT_OF_RANGE) {
      throw new InvalidError("INVENTORY.STOCK_OUT_OF_RANGE", "The stock would exceed what the catalog can count.", {
        errors: [{ in: "body", field: "/delta", message: "Too large for this product's stock" }],
      });
    }
    throw error;
  }
}

/** Why the conditional update changed nothing: no such product, or (re-read now) the rule it would break. */
async function explainRefusal(deps: Pick<InventoryDeps, "db" | "products" | "outbox">, tx: Executor, sku: string, delta: number): Promise<Error> {
  const product = await deps.products.find(tx, sku);
  if (!product) return productNotFound(sku);
  const verdict = checkAdjustment(product, delta);
  const minimumDelta = verdict.ok ? undefined : verdict.minimumDelta;
  return new ConflictError(
    "INVENTORY.STOCK_BELOW_RESERVED",
    `On-hand stock of ${sku} cannot drop below the ${product.reserved} unit(s) reserved for open orders.`,
    { sku, onHand: product.onHand, reserved: product.reserved, available: availableStock(product), delta, minimumDelta },
  );
}
