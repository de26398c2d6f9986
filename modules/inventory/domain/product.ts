/** A product of the catalog with its stock, as inventory keeps it. */
export interface Product {
  sku: string;
  name: string;
  /** In minor units of `currency`. */
  priceCents: number;
  /** ISO 4217 code; fixed once the product exists. */
  currency: string;
  /** False once retired: no longer offered, kept for the orders that hold it. */
  active: boolean;
  onHand: number;
  reserved: number;
  /** Counts catalog changes (PUT, stock adjustments), not reservation traffic. */
  version: number;
  updatedAt: Date;
}

/** The catalog fields an admin sets on a product (stock is changed separately). */
export interface CatalogFields {
  sku: string;
  name: string;
  priceCents: number;
  currency: string;
  active: boolean;
}

/** What PUT /products/:sku sets on a product: name and price always, currency and active only when given. */
export interface CatalogChange {
  sku: string;
  name: string;
  priceCents: number;
  currency?: string;
  active?: boolean;
}
