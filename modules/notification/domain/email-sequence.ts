/**
 * In which order an order's e-mails go out.
 *
 * Every orders event carries the order's version: 1 for orders.order-placed, one more for each later event of the
 * order. Placement makes no e-mail; every later event does (confirmed, rejected, cancelled, shipped). So an order's
 * e-mails carry versions 2, 3, …: the one of version 2 is the first, and the one of version v > 2 follows the one of
 * version v − 1 — "confirmed" (2) before "cancelled" or "shipped" (3), however the events were delivered.
 *
 * An e-mail is held while the one before it has not been recorded, for at most the hold (a lost event must not
 * block an order's mail for ever), and while an earlier e-mail of its order is still owed (pending).
 * An e-mail whose event carried no version (sent before orders added it) is never held and holds nothing back.
 */

/** The version of an order's first e-mail (the event after orders.order-placed, which makes none). */
export const FIRST_EMAIL_VERSION = 2;

/** How long an e-mail waits for its order's earlier e-mail to be recorded, by default: 5 minutes. */
export const DEFAULT_ORDER_HOLD_MS = 300_000;
