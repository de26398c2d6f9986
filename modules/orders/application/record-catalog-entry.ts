import type { HandlerContext } from "../../../src/platform/messaging/handler.ts";
import type { EventData } from "../../../src/platform/messaging/event.ts";
import type { ProductUpserted } from "../../inventory/contract.ts";
import type { OrdersDeps } from "../ports.ts";

/**
 * inventory.product-upserted: keeps the local price copy up to date. inventory's product version, then
 * the time it made the change (the envelope's occurredAt), order the updates: an older event arriving
 * late (after a retry) does not overwrite a newer price. Placed orders keep the prices they were placed with.
 */
export async function recordCatalogEntry(
  deps: Pick<OrdersDeps, "catalog" | "logger">,
  data: EventData<typeof ProductUpserted>,
  ctx: Pick<HandlerContext, "tx" | "envelope">,
): Promise<void> {
  const occurredAt = new Date(ctx.envelope.occurredAt);
  // An unreadable timestamp must not block the update: treat the event as current.
  const changedAt = Number.isNaN(occurredAt.getTime()) ? new Date() : occurredAt;
  const applied = await deps.catalog.upsert(ctx.tx, data, changedAt);
  if (!applied) deps.logger.info({ sku: data.sku, changedAt }, "product update older than the stored one; ignored");
}
