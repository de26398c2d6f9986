import { and, desc, eq, sql, type SQL } from "drizzle-orm";
import { sqlOf, type Executor, type Writes } from "../../../src/platform/db.ts";
import type { Order, OrderLine, StatusChange } from "../domain/order.ts";
import { isFinal, ORDER_STATUSES, type OrderStatus } from "../domain/order-status.ts";
import type { OrderListQuery, OrderRepository, OrderSummary, UnitsDrift, UnsettledOrder } from "../ports.ts";
import { ORDER_STATUS_CHANNEL } from "./order-changes.ts";
import { orders } from "./schema.ts";

type OrderRow = typeof orders.$inferSelect;

const FINAL_STATUSES = ORDER_STATUSES.filter(isFinal).map((status) => `'${status}'`).join(", ");

// The hot statements, written out: each is one round trip and a prepared statement, where the query builder
// needed three (insert) or three reads (find) or two writes (transition).
const INSERT_ORDER = `
new_order as (
  insert into orders.orders (id, customer_id, customer_email, status, status_reason, total_cents, currency, version, created_at, updated_at)
  values ($1, $2, $3, $4, $5, $6, $7, $8, $9::timestamptz, $10::timestamptz)
  returning id),
new_items as (
  insert into orders.order_items (order_id, line_no, sku, name, quantity, unit_price_cents, line_total_cents)
  select new_order.id, l.* from new_order,
    unnest($11::int[], $12::text[], $13::text[], $14::int[], $15::bigint[], $16::bigint[]) as l),
new_history as (
  insert into orders.order_history (order_id, status, at, reason)
  select new_order.id, h.status, h.at::timestamptz, h.reason
  from new_order, unnest($17::text[], $18::text[], $19::text[]) as h(status, at, reason)),
held as (
  insert into orders.open_units as u (customer_id, sku, units, cap)
  select $2::text, l.sku, sum(l.quantity)::int, $20::int from unnest($12::text[], $14::int[]) as l(sku, quantity)
  group by l.sku order by l.sku
  on conflict (customer_id, sku) do update set units = u.units + excluded.units, cap = excluded.cap)`;
// held: a line per sku (an upsert may not touch a row twice), in sku order so that two placements of one customer
// lock their rows in the same order. Over the cap, open_units_within_cap fails the statement: nothing is written.
// (Timestamps go in as text: drizzle makes the client pass timestamptz[] parameters through unserialised.)

const FIND_ORDER = `
select o.id, o.customer_id, o.customer_email, o.status, o.status_reason, o.total_cents::float8 as total_cents, o.currency,
  o.version, o.created_at, o.updated_at,
  (select coalesce(json_agg(json_build_object('lineNo', i.line_no, 'sku', i.sku, 'name', i.name, 'quantity', i.quantity,
     'unitPriceCents', i.unit_price_cents, 'lineTotalCents', i.line_total_cents) order by i.line_no), '[]')
   from orders.order_items i where i.order_id = o.id) as lines,
  (select coalesce(json_agg(json_build_object('status', h.status, 'at', h.at, 'reason', h.reason)), '[]')
   from orders.order_history h where h.order_id = o.id) as history
from orders.orders o where o.id = $1`;

const LINES_OF = `
select order_id as "orderId", line_no as "lineNo", sku, name, quantity, unit_price_cents::float8 as "unitPriceCents",
  line_total_cents::float8 as "lineTotalCents"
from orders.order_items where order_id = any($1::uuid[]) order by order_id, line_no`;

const FIND_ORDERS = FIND_ORDER.replace("where o.id = $1", "where o.id = any($1::uuid[])");

// A transition to a final status gives back what the order held of each sku (one row per customer and sku, however
// many of the batch's orders share it), visiting the rows in key order like a placement (held, above) so that the two
// rarely lock them in opposite orders; a deadlock that happens anyway is retried by whoever loses it. greatest(): an
// order placed by an instance that predates the counts was never counted.
const RELEASED = `
released as (
  update orders.open_units u set units = greatest(u.units - r.units, 0)
  from (select changed.customer_id, i.sku, sum(i.quantity)::int as units
        from changed join orders.order_items i on i.order_id = changed.id
        where changed.status in (${FINAL_STATUSES})
        group by changed.customer_id, i.sku
        order by changed.customer_id, i.sku) r
  where u.customer_id = r.customer_id and u.sku = r.sku)`;

// Each transition also announces `<order id>:<version>` on ORDER_STATUS_CHANNEL, delivered at commit (never for a
// rollback): the order's open status streams, on every instance, read it again (order-changes.ts). A select CTE
// runs only when the statement reads it, hence the count.
const SAVE_TRANSITIONS = `
with changes as (
  select * from unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[])
    as c(id, previous_status, previous_version, status, reason, version, updated_at, at)),
changed as (
  update orders.orders o set status = c.status, status_reason = c.reason, version = c.version, updated_at = c.updated_at::timestamptz
  from changes c where o.id = c.id and o.status = c.previous_status and o.version = c.previous_version
  returning o.id, o.version, o.customer_id, o.status),
${RELEASED},
noted as (
  insert into orders.order_history (order_id, status, at, reason)
  select c.id, c.status, c.at::timestamptz, c.reason from changes c join changed using (id)),
announced as (select pg_notify('${ORDER_STATUS_CHANNEL}', changed.id || ':' || changed.version) from changed)
select count(*)::int as saved, (select count(*) from announced) as announced from changed`;

const SAVE_TRANSITION = `
with changed as (
  update orders.orders set status = $4, status_reason = $5, version = $6, updated_at = $7::timestamptz
  where id = $1 and status = $2 and version = $3
  returning id, version, customer_id, status),
${RELEASED},
noted as (
  insert into orders.order_history (order_id, status, at, reason)
  select changed.id, $8, $9::timestamptz, $10 from changed
  returning order_id),
announced as (select pg_notify('${ORDER_STATUS_CHANNEL}', changed.id || ':' || changed.version) from changed)
select order_id, (select count(*) from announced) as announced from noted`;

const HELD_UNITS = `select sku, units from orders.open_units where customer_id = $1 and sku = any($2::text[])`;

// One statement, so one snapshot: a placement or transition committing meanwhile is seen whole or not at all.
const UNITS_DRIFT = `
with truth as (
  select o.customer_id, i.sku, sum(i.quantity)::int as units
  from orders.orders o join orders.order_items i on i.order_id = o.id
  where o.status in ('pending', 'confirmed')
  group by o.customer_id, i.sku)
select coalesce(t.customer_id, u.customer_id) as "customerId", coalesce(t.sku, u.sku) as sku,
  coalesce(u.units, 0) as counted, coalesce(t.units, 0) as held
from truth t full join orders.open_units u on u.customer_id = t.customer_id and u.sku = t.sku
where coalesce(u.units, 0) <> coalesce(t.units, 0)
order by 1, 2
limit 100`;

interface StoredOrderRow {
  id: string;
  customer_id: string;
  customer_email: string;
  status: Order["status"];
  status_reason: string | null;
  total_cents: number;
  currency: string;
  version: number;
  created_at: string;
  updated_at: string;
  lines: OrderLine[];
  history: Array<{ status: Order["status"]; at: string; reason: string | null }>;
}

function orderOf(row: StoredOrderRow): Order {
  const history = row.history.map((h) => ({ status: h.status, at: new Date(h.at), reason: h.reason }));
  // Two changes within one millisecond keep their lifecycle order (ORDER_STATUSES lists it topologically).
  history.sort((a, b) => a.at.getTime() - b.at.getTime() || ORDER_STATUSES.indexOf(a.status) - ORDER_STATUSES.indexOf(b.status));
  return {
    id: row.id,
    customerId: row.customer_id,
    customerEmail: row.customer_email,
    status: row.status,
    statusReason: row.status_reason,
    lines: row.lines,
    totalCents: row.total_cents,
    currency: row.currency,
    version: row.version,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    history,
  };
}

/** Orders with their lines and history, in the orders schema. */
export const orderRepository: OrderRepository = {
  /**
   * Stores a new order with its lines and history in one statement (call inside the transaction that also
   * writes the outbox).
   */
  /** The writes that store a new order with its lines and history, for one statement with its event (Outbox.insertWith). */
  insertWrites(order: Order, maxOpenUnitsPerSku: number): Writes {
    const { lines, history } = order;
    return {
      ctes: INSERT_ORDER,
      params: [
        order.id,
        order.customerId,
        order.customerEmail,
        order.status,
        order.statusReason,
        order.totalCents,
        order.currency,
        order.version,
        order.createdAt.toISOString(),
        order.updatedAt.toISOString(),
        lines.map((l) => l.lineNo),
        lines.map((l) => l.sku),
        lines.map((l) => l.name),
        lines.map((l) => l.quantity),
        lines.map((l) => l.unitPriceCents),
        lines.map((l) => l.lineTotalCents),
        history.map((h) => h.status),
        history.map((h) => h.at.toISOString()),
        history.map((h) => h.reason),
        maxOpenUnitsPerSku,
      ],
    };
  },

  async heldUnits(db: Executor, customerId: string, skus: readonly string[]): Promise<Map<string, number>> {
    const rows = await sqlOf(db).unsafe<{ sku: string; units: number }[]>(HELD_UNITS, [customerId, skus as string[]]);
    return new Map(rows.map((row) => [row.sku, row.units]));
  },

  async findUnitsDrift(db: Executor): Promise<UnitsDrift[]> {
    return sqlOf(db).unsafe<UnitsDrift[]>(UNITS_DRIFT);
  },

  /** The order with its lines and history: one statement. */
  async findById(db: Executor, id: string): Promise<Order | undefined> {
    const [row] = await sqlOf(db).unsafe<StoredOrderRow[]>(FIND_ORDER, [id]);
    return row ? orderOf(row) : undefined;
  },

  /** These orders (those that exist), with lines and history: one statement. */
  async findMany(db: Executor, ids: string[]): Promise<Map<string, Order>> {
    const rows = await sqlOf(db).unsafe<StoredOrderRow[]>(FIND_ORDERS, [ids]);
    return new Map(rows.map((row) => [row.id, orderOf(row)]));
  },

  /** A page of orders, newest first (created_at desc, id desc), lines included, history left out. */
  async list(db: Executor, query: OrderListQuery): Promise<OrderSummary[]> {
    const conditions: SQL[] = [];
    if (query.customerId !== undefined) conditions.push(eq(orders.customerId, query.customerId));
    if (query.status !== undefined) conditions.push(eq(orders.status, query.status));
    if (query.after) {
      // A row comparison, so that (created_at, id) pairs order exactly as the ORDER BY does and an index serves it.
      conditions.push(
        sql`(${orders.createdAt}, ${orders.id}) < (${query.after.createdAt.toISOString()}::timestamptz, ${query.after.id}::uuid)`,
      );
    }
    const rows = await db
      .select()
      .from(orders)
      .where(and(...conditions))
      .orderBy(desc(orders.createdAt), desc(orders.id))
      .limit(query.limit);
    const lines = await linesOf(
      db,
      rows.map((row) => row.id),
    );
    return rows.map((row) => summaryOf(row, lines.get(row.id) ?? []));
  },

  /**
   * Writes a transition decided by the domain, but only if nobody changed the order since it was read
   * (same status and version as `previous`). Returns false when another transition won the race.
   */
  async saveTransition(tx: Executor, previous: Pick<Order, "id" | "status" | "version">, next: Order, change: StatusChange): Promise<boolean> {
    const saved = await sqlOf(tx).unsafe(SAVE_TRANSITION, [
      previous.id,
      previous.status,
      previous.version,
      next.status,
      next.statusReason,
      next.version,
      next.updatedAt.toISOString(),
      change.status,
      change.at.toISOString(),
      change.reason,
    ]);
    return saved.length > 0;
  },

  /**
   * saveTransition for several orders (each at most once) in one statement. False when any of them changed since
   * it was read: the others may have been written, so the caller must then roll its transaction back.
   */
  async saveTransitions(tx: Executor, writes: ReadonlyArray<{ previous: Pick<Order, "id" | "status" | "version">; next: Order; change: StatusChange }>): Promise<boolean> {
    const column = <T>(pick: (w: (typeof writes)[number]) => T) => writes.map(pick);
    const [row] = await sqlOf(tx).unsafe<{ saved: number }[]>(SAVE_TRANSITIONS, [
      column((w) => w.previous.id),
      column((w) => w.previous.status),
      column((w) => w.previous.version),
      column((w) => w.next.status),
      column((w) => w.next.statusReason),
      column((w) => w.next.version),
      column((w) => w.next.updatedAt.toISOString()),
      column((w) => w.change.at.toISOString()),
    ]);
    return row!.saved === writes.length;
  },

  /**
   * What the invariant check reports: an order still pending after `settleMs` must still have its order-placed
   * event waiting in the outbox (then the outbox check says why); one whose event was sent lost its answer.
   */
  async findUnsettled(db: Executor, settleMs: number): Promise<UnsettledOrder[]> {
    const stuck = await db.execute<{ id: string; created_at: string }>(sql`
      select o.id, o.created_at::text
      from orders.orders o
      where o.status = 'pending'
        and o.created_at < now() - make_interval(secs => ${settleMs / 1000})
        and not exists (
          select 1 from orders.outbox e
          where e.sent_at is null and e.name = 'orders.order-placed' and e.envelope->'data'->>'orderId' = o.id::text)
      order by o.created_at
      limit 100`);
    return [...stuck].map((r) => ({ id: r.id, createdAt: r.created_at }));
  },
};

async function linesOf(db: Executor, orderIds: string[]): Promise<Map<string, OrderLine[]>> {
  const byOrder = new Map<string, OrderLine[]>();
  if (orderIds.length === 0) return byOrder;
  // One prepared statement whatever the page size (an IN list of n ids would be a statement per n).
  const rows = await sqlOf(db).unsafe<Array<OrderLine & { orderId: string }>>(LINES_OF, [orderIds]);
  for (const { orderId, ...line } of rows) {
    const lines = byOrder.get(orderId) ?? [];
    lines.push(line);
    byOrder.set(orderId, lines);
  }
  return byOrder;
}

function summaryOf(row: OrderRow, lines: OrderLine[]): OrderSummary {
  return {
    id: row.id,
    customerId: row.customerId,
    customerEmail: row.customerEmail,
    status: row.status,
    statusReason: row.statusReason,
    lines,
    totalCents: row.totalCents,
    currency: row.currency,
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
