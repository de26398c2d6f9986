import type { TLiteral } from "@sinclair/typebox";
import { Elysia, t } from "elysia";
import type { Executor } from "../../src/platform/db.ts";
import { authPlugin, requireUser, type Principal } from "../../src/platform/http/auth.ts";
import { bearerSecurity } from "../../src/platform/http/docs.ts";
import { ProblemSchema } from "../../src/platform/http/problem.ts";
import { requestContext } from "../../src/platform/http/request-context.ts";
import type { Outbox } from "../../src/platform/messaging/outbox.ts";
import { getOrder } from "./application/get-order.ts";
import { DEFAULT_PAGE_SIZE, listOrders, MAX_PAGE_SIZE } from "./application/list-orders.ts";
import { placeOrder } from "./application/place-order.ts";
import type { Order, Viewer } from "./domain/order.ts";
import { MAX_LINE_QUANTITY, MAX_ORDER_LINES, MAX_SKU_LENGTH, MIN_LINE_QUANTITY } from "./domain/order-limits.ts";
import { ORDER_STATUSES } from "./domain/order-status.ts";
import type { CatalogRepository } from "./infrastructure/catalog-repository.ts";
import type { OrderRepository, OrderSummary } from "./infrastructure/order-repository.ts";

/** One TypeBox literal per entry of a const string tuple, keeping each literal's type. */
type LiteralsOf<T extends readonly string[]> = { -readonly [K in keyof T]: TLiteral<T[K]> };

export interface OrdersRoutesDeps {
  authSecret: string;
  db: Executor;
  orders: OrderRepository;
  catalog: CatalogRepository;
  outbox: Outbox;
}

// Not t.UnionEnum: Elysia gives it `default: values[0]`, so an absent ?status= would silently mean "pending".
const Status = t.Union(ORDER_STATUSES.map((status) => t.Literal(status)) as unknown as LiteralsOf<typeof ORDER_STATUSES>);
const Timestamp = t.String({ format: "date-time" });

const PlaceOrderBody = t.Object({
  items: t.Array(
    t.Object({
      sku: t.String({ minLength: 1, maxLength: MAX_SKU_LENGTH }),
      quantity: t.Integer({ minimum: MIN_LINE_QUANTITY, maximum: MAX_LINE_QUANTITY }),
    }),
    { minItems: 1, maxItems: MAX_ORDER_LINES, description: "one entry per sku; prices come from the catalog" },
  ),
});

const OrderItemBody = t.Object({
  sku: t.String(),
  name: t.String(),
  quantity: t.Integer(),
  unitPriceCents: t.Integer({ description: "price per unit when the order was placed, in minor units" }),
  lineTotalCents: t.Integer(),
});

const OrderFields = {
  id: t.String({ format: "uuid" }),
  status: Status,
  statusReason: t.Union([t.String(), t.Null()], { description: "why it was rejected or cancelled" }),
  customerId: t.String(),
  items: t.Array(OrderItemBody),
  totalCents: t.Integer({ description: "sum of the line totals, in minor units of `currency`" }),
  currency: t.String({ description: "ISO 4217 code" }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  version: t.Integer({ description: "grows by one on every status change" }),
};

const OrderBody = t.Object({
  ...OrderFields,
  history: t.Array(t.Object({ status: Status, at: Timestamp, reason: t.Optional(t.String()) }), {
    description: "every status the order reached, oldest first",
  }),
});

// Lists leave the history out: it is one more query per page and rarely needed at a glance.
const OrderPageBody = t.Object({
  items: t.Array(t.Object(OrderFields), { description: "orders without their history (GET /orders/:id has it)" }),
  nextCursor: t.Union([t.String(), t.Null()], { description: "pass as `cursor` for the next page; null on the last page" }),
});

const OrderIdParams = t.Object({ id: t.String({ format: "uuid" }) });

const ListQuery = t.Object({
  status: t.Optional(Status),
  limit: t.Optional(t.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })),
  cursor: t.Optional(t.String({ minLength: 1, maxLength: 512, description: "the previous page's nextCursor" })),
});

const TAGS = ["orders"];

/** The orders module's HTTP API: place, read and list orders. */
export function ordersRoutes(deps: OrdersRoutesDeps) {
  return new Elysia({ name: "orders-routes" })
    .use(requestContext())
    .use(authPlugin(deps.authSecret))
    .post(
      "/orders",
      async ({ body, principal, correlationId, set }) => {
        const user = requireUser(principal);
        const order = await placeOrder(deps, { customer: { id: user.sub, email: user.email }, items: body.items, correlationId });
        set.status = 201;
        set.headers.location = `/orders/${order.id}`;
        return orderBody(order);
      },
      {
        body: PlaceOrderBody,
        response: { 201: OrderBody, 401: ProblemSchema, 422: ProblemSchema },
        detail: {
          tags: TAGS,
          security: bearerSecurity,
          summary: "Place an order",
          description:
            "Prices the items from the catalog and stores the order as `pending`; stock is reserved asynchronously " +
            "(the order becomes `confirmed` or `rejected`). Unknown or unavailable skus: 422 `ORDERS.UNKNOWN_SKU` with `skus`.",
        },
      },
    )
    .get(
      "/orders/:id",
      async ({ params, principal }) => orderBody(await getOrder(deps, { orderId: params.id, viewer: viewerOf(requireUser(principal)) })),
      {
        params: OrderIdParams,
        response: { 200: OrderBody, 401: ProblemSchema, 404: ProblemSchema, 422: ProblemSchema },
        detail: { tags: TAGS, security: bearerSecurity, summary: "Get an order (its owner or an admin; 404 for anyone else)" },
      },
    )
    .get(
      "/orders",
      async ({ query, principal }) => {
        const page = await listOrders(deps, { viewer: viewerOf(requireUser(principal)), ...query });
        return { items: page.items.map(summaryBody), nextCursor: page.nextCursor };
      },
      {
        query: ListQuery,
        response: { 200: OrderPageBody, 401: ProblemSchema, 422: ProblemSchema },
        detail: {
          tags: TAGS,
          security: bearerSecurity,
          summary: "List orders, newest first (a customer's own; every order for an admin)",
          description: "Keyset pagination: follow `nextCursor` until it is null. Items leave out the history.",
        },
      },
    );
}

function viewerOf(principal: Principal): Viewer {
  return { id: principal.sub, isAdmin: principal.role === "admin" };
}

function summaryBody(order: OrderSummary) {
  return {
    id: order.id,
    status: order.status,
    statusReason: order.statusReason,
    customerId: order.customerId,
    items: order.lines.map(({ sku, name, quantity, unitPriceCents, lineTotalCents }) => ({ sku, name, quantity, unitPriceCents, lineTotalCents })),
    totalCents: order.totalCents,
    currency: order.currency,
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
    version: order.version,
  };
}

function orderBody(order: Order) {
  return {
    ...summaryBody(order),
    history: order.history.map((change) => ({
      status: change.status,
      at: change.at.toISOString(),
      ...(change.reason === null ? {} : { reason: change.reason }),
    })),
  };
}
