import { expect } from "bun:test";
import type postgres from "postgres";
import { MODULE_NAMES, type ModuleName } from "../config.ts";
import { countDeadLetters } from "../platform/messaging/dead-letters.ts";
import { TEST_AMQP_URL } from "./broker.ts";
import { printFigures } from "./fault-fixture.ts";
import { runCli } from "./process.ts";

// The end of every fault test: wait until the shop has settled, then hold it to the promise — every
// accepted order exists once and is final, every event was applied exactly once, stock agrees with the
// orders to the unit, nothing is left in an outbox, nothing was parked, and `shop check` agrees.

const FINAL = new Set(["confirmed", "rejected", "cancelled", "shipped"]);
const ANSWERS = ["inventory.stock-reserved", "inventory.stock-rejected"];
const OUTCOMES = ["orders.order-confirmed", "orders.order-rejected"];

export interface SettleOptions {
  /** Names the test in the printed figures. */
  label: string;
  /** A direct connection to each module's database (one and the same when the modules share one). */
  sqlOf: (module: ModuleName) => postgres.Sql;
  /** The shop's environment with direct URLs, for `shop check`. */
  env: Record<string, string>;
  prefix: string;
  /** Ids of every order answered 201. */
  acceptedIds: string[];
  /** How many POST /orders were sent (answered or not). */
  placed: number;
  /** Every sku the test ordered, with its on-hand stock before the test. */
  initialStock: Record<string, number>;
  /** What was done to the shop, for the figures ("rabbitmq down 3.1 s", "SIGKILL ×1"). */
  faults: string;
  /** Messages each module's DLQ must hold at the end (default: none anywhere). */
  deadLetters?: Partial<Record<ModuleName, number>>;
  /** More figures to print. */
  extra?: Record<string, unknown>;
  timeoutMs?: number;
}

export interface SettleFigures {
  placed: number;
  accepted: number;
  statuses: Record<string, number>;
  lost: number;
  duplicates: number;
  stockMismatches: number;
}

interface Snapshot {
  accepted: Map<string, string>;
  orders: Map<string, string>;
  unsent: number;
  mailsMissing: number;
}

/** Polls until the shop has settled (or `timeoutMs`), prints the figures, then asserts every invariant. */
export async function assertSettled(options: SettleOptions): Promise<SettleFigures> {
  const { sqlOf, acceptedIds, timeoutMs = 30_000 } = options;
  const sql = sqlOf("orders");
  const skus = Object.keys(options.initialStock);
  const startedAt = performance.now();

  // Every query reads one module's tables in that module's database; what spans modules is joined here.
  const snapshot = async (): Promise<Snapshot> => {
    const accepted = await sql<{ id: string; status: string }[]>`select id::text, status from orders.orders where id = any(${acceptedIds}::uuid[])`;
    const orders = await scopedOrders(sql, skus);
    const unsent = await unsentOutboxRows(sqlOf);
    const answered = [...orders].filter(([, status]) => status === "confirmed" || status === "rejected");
    const mailed = await sqlOf("notification")<{ key: string }[]>`
      select order_id::text || ' ' || template as key from notification.notifications where order_id = any(${answered.map(([id]) => id)}::uuid[])`;
    const keys = new Set(mailed.map((m) => m.key));
    const mailsMissing = answered.filter(([id, status]) => !keys.has(`${id} order-${status}`)).length;
    return { accepted: new Map(accepted.map((r) => [r.id, r.status])), orders, unsent, mailsMissing };
  };
  const settled = (s: Snapshot) =>
    s.accepted.size === new Set(acceptedIds).size &&
    [...s.orders.values()].every((status) => FINAL.has(status)) &&
    s.unsent === 0 &&
    s.mailsMissing === 0;

  let last = await snapshot();
  while (!settled(last) && performance.now() - startedAt < timeoutMs) {
    await Bun.sleep(250);
    last = await snapshot();
  }
  const settleMs = Math.round(performance.now() - startedAt);

  const problems: string[] = [];
  let lost = 0;
  let duplicates = 0;
  const lose = (count: number, what: string) => {
    if (count > 0) problems.push(`LOST ${count}: ${what}`);
    lost += count;
  };
  const duplicate = (count: number, what: string) => {
    if (count > 0) problems.push(`DUPLICATE ${count}: ${what}`);
    duplicates += count;
  };

  // Orders: every 201 is stored once and final; every order of these skus (answered or not) is final.
  duplicate(acceptedIds.length - new Set(acceptedIds).size, "order ids answered 201 more than once");
  const missing = [...new Set(acceptedIds)].filter((id) => !last.accepted.has(id));
  lose(missing.length, `accepted orders not stored: ${missing.slice(0, 5).join(", ")}`);
  const open = [...last.orders].filter(([, status]) => !FINAL.has(status)).map(([id, status]) => `${id} ${status}`);
  lose(open.length, `orders not final after ${timeoutMs} ms: ${open.slice(0, 5).join(", ")}`);
  const orderIds = [...last.orders.keys()];

  // Events: one order-placed per order, consumed once by inventory; one stock answer per order (none when the
  // cancel overtook the placement), consumed once by orders; one outcome event per answered order.
  const events = await eventCounts(sqlOf, orderIds);
  for (const [id, status] of last.orders) {
    const e = events.get(id) ?? { placed: 0, placedHandled: 0, answers: 0, answersHandled: 0, outcomes: 0, answer: undefined };
    if (e.placed !== 1) (e.placed === 0 ? lose : duplicate)(Math.abs(e.placed - 1), `order ${id}: ${e.placed} order-placed events`);
    else if (e.placedHandled !== 1) lose(1, `order ${id}: its order-placed event was never handled by inventory`);
    const answersWanted = status === "cancelled" ? [0, 1] : [1];
    if (e.answers > 1) duplicate(e.answers - 1, `order ${id}: ${e.answers} stock answers from inventory`);
    else if (!answersWanted.includes(e.answers)) lose(1, `order ${id} (${status}): no stock answer from inventory`);
    else if (e.answersHandled !== e.answers) lose(1, `order ${id}: inventory's answer was never handled by orders`);
    if (status === "confirmed" && e.answer !== "inventory.stock-reserved") problems.push(`order ${id} confirmed, but inventory answered ${e.answer}`);
    if (status === "rejected" && e.answer !== "inventory.stock-rejected") problems.push(`order ${id} rejected, but inventory answered ${e.answer}`);
    if (e.outcomes > 1) duplicate(e.outcomes - 1, `order ${id}: ${e.outcomes} order-confirmed/-rejected events`);
  }
  const mails = await sqlOf("notification")<{ order_id: string; template: string; n: number }[]>`
    select order_id::text, template, count(*)::int as n from notification.notifications
    where order_id = any(${orderIds}::uuid[]) group by 1, 2 having count(*) > 1`;
  for (const m of mails) duplicate(m.n - 1, `order ${m.order_id}: ${m.n} ${m.template} e-mails`);
  lose(last.mailsMissing, "confirmed/rejected orders without their e-mail");

  // Stock: each order holds exactly its lines while confirmed, and nothing otherwise; products agree to the unit.
  const stockProblems = await stockMismatches(sqlOf, options.initialStock);
  problems.push(...stockProblems);

  // Nothing left behind: outboxes drained, no DLQ holds more than expected.
  if (last.unsent > 0) problems.push(`${last.unsent} outbox row(s) still unsent`);
  const parked: Record<string, number> = {};
  for (const module of MODULE_NAMES) {
    parked[module] = await countDeadLetters({ amqpUrl: TEST_AMQP_URL, prefix: options.prefix, module }).catch(() => -1);
    const wanted = options.deadLetters?.[module] ?? 0;
    if (parked[module] !== wanted) problems.push(`${module} DLQ holds ${parked[module]} message(s), expected ${wanted}`);
  }

  const statuses: Record<string, number> = {};
  for (const status of last.orders.values()) statuses[status] = (statuses[status] ?? 0) + 1;
  const figures: SettleFigures = {
    placed: options.placed,
    accepted: acceptedIds.length,
    statuses,
    lost,
    duplicates,
    stockMismatches: stockProblems.length,
  };
  const acceptedSet = new Set(acceptedIds);
  printFigures(options.label, {
    "orders placed": figures.placed,
    accepted: figures.accepted,
    // Committed, but the answer was lost (crash, cut connection): they must settle like the others.
    "stored without a 201": [...last.orders.keys()].filter((id) => !acceptedSet.has(id)).length,
    "faults injected": options.faults,
    ...options.extra,
    "orders lost": lost,
    duplicates,
    "stock mismatches": stockProblems.length,
    "final statuses": statuses,
    "settled in ms": settleMs,
  });

  expect(problems).toEqual([]);
  const check = await runCli(["check", "--settle", "0s"], options.env, 30_000);
  expect({ code: check.code, report: check.stdout.trim(), stderr: check.stderr.trim().slice(0, 2000) }).toMatchObject({ code: 0 });
  expect(check.stdout).toContain("all invariants hold");
  return figures;
}

/** Every order with a line of one of `skus`, with its status. */
async function scopedOrders(sql: postgres.Sql, skus: string[]): Promise<Map<string, string>> {
  const rows = await sql<{ id: string; status: string }[]>`
    select distinct o.id::text, o.status from orders.orders o join orders.order_items i on i.order_id = o.id where i.sku = any(${skus})`;
  return new Map(rows.map((r) => [r.id, r.status]));
}

async function unsentOutboxRows(sqlOf: (module: ModuleName) => postgres.Sql): Promise<number> {
  let unsent = 0;
  for (const module of MODULE_NAMES) {
    const [row] = await sqlOf(module)<{ n: number }[]>`select count(*)::int as n from ${sqlOf(module)(`${module}.outbox`)} where sent_at is null`;
    unsent += row!.n;
  }
  return unsent;
}

interface OrderEvents {
  placed: number;
  placedHandled: number;
  answers: number;
  answersHandled: number;
  answer: string | undefined;
  outcomes: number;
}

/** Per order: its events in both outboxes, and whether the other module's inbox recorded each. */
async function eventCounts(sqlOf: (module: ModuleName) => postgres.Sql, orderIds: string[]): Promise<Map<string, OrderEvents>> {
  const sent = async (from: ModuleName, names: string[], to: ModuleName) => {
    const events = await sqlOf(from)<{ id: string; order_id: string; name: string }[]>`
      select id::text, envelope->'data'->>'orderId' as order_id, name from ${sqlOf(from)(`${from}.outbox`)}
      where name = any(${names}) and envelope->'data'->>'orderId' = any(${orderIds})`;
    const handled = await sqlOf(to)<{ key: string }[]>`
      select message_id::text || ' ' || handler as key from ${sqlOf(to)(`${to}.inbox`)} where message_id = any(${events.map((e) => e.id)}::uuid[])`;
    const keys = new Set(handled.map((h) => h.key));
    return events.map((e) => ({ order_id: e.order_id, name: e.name, handled: keys.has(`${e.id} ${to}:${e.name}`) ? 1 : 0 }));
  };
  const rows = [...(await sent("orders", ["orders.order-placed", ...OUTCOMES], "inventory")), ...(await sent("inventory", ANSWERS, "orders"))];
  const counts = new Map<string, OrderEvents>();
  for (const row of rows) {
    const c = counts.get(row.order_id) ?? { placed: 0, placedHandled: 0, answers: 0, answersHandled: 0, answer: undefined, outcomes: 0 };
    if (row.name === "orders.order-placed") {
      c.placed++;
      c.placedHandled += row.handled;
    } else if (OUTCOMES.includes(row.name)) c.outcomes++;
    else {
      c.answers++;
      c.answersHandled += row.handled;
      c.answer = row.name;
    }
    counts.set(row.order_id, c);
  }
  return counts;
}

/**
 * Compares, line by line, what orders says (status and quantity of each order's lines) with what inventory
 * holds (reservations), then each product's `reserved` and `on_hand` with the sums they must equal.
 */
async function stockMismatches(sqlOf: (module: ModuleName) => postgres.Sql, initialStock: Record<string, number>): Promise<string[]> {
  const skus = Object.keys(initialStock);
  const sql = sqlOf("inventory");
  const items = await sqlOf("orders")<{ order_id: string; sku: string; quantity: number; status: string }[]>`
    select i.order_id::text, i.sku, i.quantity, o.status from orders.order_items i join orders.orders o on o.id = i.order_id
    where i.sku = any(${skus})`;
  const holds = await sql<{ order_id: string; sku: string; quantity: number; status: string }[]>`
    select order_id::text, sku, quantity, status from inventory.reservations where sku = any(${skus})`;
  // Both sides, line by line (a full join of the two modules' rows).
  type Line = { order_id: string; sku: string; order_status: string | null; ordered: number | null; reservation: string | null; reserved: number | null };
  const byLine = new Map<string, Line>();
  const lineOf = (orderId: string, sku: string) => {
    const key = `${orderId} ${sku}`;
    const line = byLine.get(key) ?? { order_id: orderId, sku, order_status: null, ordered: null, reservation: null, reserved: null };
    byLine.set(key, line);
    return line;
  };
  for (const item of items) Object.assign(lineOf(item.order_id, item.sku), { order_status: item.status, ordered: item.quantity });
  for (const hold of holds) Object.assign(lineOf(hold.order_id, hold.sku), { reservation: hold.status, reserved: hold.quantity });
  const lines = [...byLine.values()];
  const problems: string[] = [];
  const expected = new Map(skus.map((sku) => [sku, { reserved: 0, shipped: 0, held: 0 }]));
  for (const line of lines) {
    const sums = expected.get(line.sku)!;
    if (line.reservation === "held") sums.held += line.reserved!;
    if (line.order_status === "confirmed") sums.reserved += line.ordered!;
    if (line.order_status === "shipped") sums.shipped += line.ordered!;
    const want =
      line.order_status === "confirmed" ? "held" : line.order_status === "shipped" ? "consumed" : line.order_status === "cancelled" ? "released?" : "none";
    const ok =
      line.order_status === null
        ? false
        : want === "none"
          ? line.reservation === null
          : want === "released?"
            ? line.reservation === null || (line.reservation === "released" && line.reserved === line.ordered)
            : line.reservation === want && line.reserved === line.ordered;
    if (!ok) {
      problems.push(
        `order ${line.order_id} ${line.sku}: orders says ${line.order_status ?? "nothing"} × ${line.ordered ?? 0}, ` +
          `inventory has ${line.reservation ?? "no reservation"} × ${line.reserved ?? 0}`,
      );
    }
  }
  const products = await sql<{ sku: string; on_hand: number; reserved: number }[]>`
    select sku, on_hand, reserved from inventory.products where sku = any(${skus})`;
  for (const product of products) {
    const sums = expected.get(product.sku)!;
    const onHand = initialStock[product.sku]! - sums.shipped;
    if (product.reserved !== sums.reserved || product.reserved !== sums.held || product.on_hand !== onHand) {
      problems.push(
        `${product.sku}: reserved ${product.reserved} (held reservations ${sums.held}, confirmed orders ${sums.reserved}), ` +
          `on hand ${product.on_hand} (expected ${onHand})`,
      );
    }
  }
  if (products.length !== skus.length) problems.push(`only ${products.length} of ${skus.length} products exist`);
  return problems;
}
