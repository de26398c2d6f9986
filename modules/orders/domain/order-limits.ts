/** Most lines one order may have; the HTTP schema and the pricing rule both use it. */
export const MAX_ORDER_LINES = 50;

/** Smallest and largest quantity of one line. */
export const MIN_LINE_QUANTITY = 1;
export const MAX_LINE_QUANTITY = 1000;

/** Longest sku accepted (the inventory contract's limit). */
export const MAX_SKU_LENGTH = 64;

/** Longest reason accepted when an order is cancelled. */
export const MAX_CANCEL_REASON_LENGTH = 500;
