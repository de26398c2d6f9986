import type { RequestedLine } from "./pricing.ts";

/** A sku an order would take over the cap: what the customer already holds of it, and what the order asks for. */
export interface OpenUnitsExcess {
  sku: string;
  held: number;
  requested: number;
}

/**
 * The lines that would take the customer's units of a sku in open (pending or confirmed) orders above `limit`,
 * given what they already `held` per sku. Empty when the order fits. The cap keeps one customer from holding a
 * product's stock in orders they may never pay for or collect.
 */
export function openUnitsExcess(lines: readonly RequestedLine[], held: ReadonlyMap<string, number>, limit: number): OpenUnitsExcess[] {
  return lines
    .map((line) => ({ sku: line.sku, held: held.get(line.sku) ?? 0, requested: line.quantity }))
    .filter((excess) => excess.held + excess.requested > limit);
}
