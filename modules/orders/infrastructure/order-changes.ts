import type { Sql } from "../../../src/platform/db.ts";
import type { Logger } from "../../../src/platform/logger.ts";
import { NotificationFanOut } from "../../../src/platform/notification-fan-out.ts";
import type { OrderChanges } from "../ports.ts";

/** The NOTIFY channel every status change is announced on, as `<order id>:<version>` (order-repository.ts). */
export const ORDER_STATUS_CHANNEL = "shop_orders_status";

/**
 * Status changes as this process hears them: one LISTEN on the orders database, fanned out to the subscribers of
 * each order. Changes made by any instance arrive, since NOTIFY goes through PostgreSQL. start()/stop() are the
 * module's background loop.
 */
export function orderChanges(options: { sql: Sql; logger: Logger }): OrderChanges & {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Subscriptions open now. */
  readonly size: number;
} {
  const fanOut = new NotificationFanOut({ sql: options.sql, channel: ORDER_STATUS_CHANNEL, logger: options.logger });
  return {
    start: () => fanOut.start(),
    stop: () => fanOut.stop(),
    get size() {
      return fanOut.size;
    },
    subscribe: (orderId, onChange) =>
      fanOut.subscribe(orderId, (detail) => {
        const version = detail === undefined ? undefined : Number(detail);
        onChange(Number.isInteger(version) ? version : undefined);
      }),
  };
}
