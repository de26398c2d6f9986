import type { TLiteral } from "@sinclair/typebox";
import { Elysia, t, type Static } from "elysia";
import { authPlugin } from "../../src/platform/http/auth.ts";
import type { Authenticator } from "../../src/platform/http/authenticator.ts";
import type { Principal } from "../../src/platform/http/principal.ts";
import { JsonInteger } from "../../src/platform/http/integer-schemas.ts";
import { InvalidError } from "../../src/platform/errors.ts";
import { rateLimitPlugin, type RateLimitSettings } from "../../src/platform/http/rate-limit.ts";
import { eventStreamSchema } from "../../src/platform/http/openapi-document.ts";
import type { EventStreams } from "../../src/platform/http/event-streams.ts";
import { answer, problems } from "../../src/platform/http/problem-responses.ts";
import { NextCursor, pageQuery } from "../../src/platform/http/page-query.ts";
import { requestContext } from "../../src/platform/http/request-context.ts";
import { cancelOrder } from "./application/cancel-order.ts";
import { followOrderStatus, hasStatusToFollow } from "./application/follow-order-status.ts";
import { getOrder } from "./application/get-order.ts";
import { listOrders } from "./application/list-orders.ts";
import { placeOrder } from "./application/place-order.ts";
import { placeOrderIdempotently } from "./application/place-order-idempotently.ts";
import { shipOrder } from "./application/ship-order.ts";
import { IDEMPOTENCY_KEY_PATTERN, MAX_IDEMPOTENCY_KEY_LENGTH } from "./domain/idempotency-key.ts";
import type { Order, Viewer } from "./domain/order.ts";
import { MAX_CANCEL_REASON_LENGTH, MAX_LINE_QUANTITY, MAX_ORDER_LINES, MAX_SKU_LENGTH, MIN_LINE_QUANTITY } from "./domain/order-limits.ts";
import { ORDER_STATUSES } from "./domain/order-status.ts";
import type { StatusEvent } from "./domain/status-event.ts";
import type { OrderChanges, OrderSummary, OrdersDeps } from "./ports.ts";

/** One TypeBox literal per entry of a const string tuple, keeping each literal's type. */
type LiteralsOf<T extends readonly string[]> = { -readonly [K in keyof T]: TLiteral<T[K]> };

export interface OrdersRoutesDeps extends OrdersDeps {
  authenticator: Authenticator;
  /** POST /orders per customer; absent: no limit. */
  placeRateLimit?: RateLimitSettings | undefined;
  /** The open GET /orders/:id/events streams of this process, and what wakes them. */
  statusStreams: EventStreams;
  orderChanges: OrderChanges;
}

// Not t.UnionEnum: Elysia gives it `default: values[0]`, so an absent ?status= would silently mean "pending".
const Status = t.Union(ORDER_STATUSES.map((status) => t.Literal(status)) as unknown as LiteralsOf<typeof ORDER_STATUSES>);
const Timestamp = t.String({ format: "date-time" });

const PlaceOrderBody = t.Object({
  items: t.Array(
    t.Object({
      sku: t.String({ minLength: 1, maxLength: MAX_SKU_LENGTH }),
      quantity: JsonInteger({ minimum: MIN_LINE_QUANTITY, maximum: MAX_LINE_QUANTITY }),
    }),
    { minItems: 1, maxItems: MAX_ORDER_LINES, description: "one entry per sku; prices come from the catalog" },
  ),
}, { examples: [{ items: [{ sku: "MUG-RED", quantity: 2 }] }] });

const PlaceOrderHeaders = t.Object({
  "idempotency-key": t.Optional(
    t.String({
      minLength: 1,
      maxLength: MAX_IDEMPOTENCY_KEY_LENGTH,
      pattern: IDEMPOTENCY_KEY_PATTERN,
      description:
        "optional, printable ASCII, up to 255 characters, unique per order you mean to place: a retry with the same key and body " +
        "gets the first answer again (with `Idempotent-Replayed: true`) for 24 hours",
    }),
  ),
});

const CancelBody = t.Optional(
  t.Object({
    reason: t.Optional(t.String({ maxLength: MAX_CANCEL_REASON_LENGTH, description: "kept as the order's statusReason" })),
  }, { examples: [{ reason: "ordered the wrong size" }] }),
);

const OrderItemBody = t.Object({
  sku: t.String(),
  name: t.String(),
  quantity: JsonInteger(),
  unitPriceCents: JsonInteger({ description: "price per unit when the order was placed, in minor units" }),
  lineTotalCents: JsonInteger(),
});

const OrderFields = {
  id: t.String({ format: "uuid" }),
  status: Status,
  statusReason: t.Union([t.String(), t.Null()], { description: "why it was rejected or cancelled" }),
  customerId: t.String(),
  items: t.Array(OrderItemBody),
  totalCents: JsonInteger({ description: "sum of the line totals, in minor units of `currency`" }),
  currency: t.String({ description: "ISO 4217 code" }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  version: JsonInteger({ description: "grows by one on every status change" }),
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
  nextCursor: NextCursor,
});

const OrderIdParams = t.Object({ id: t.String({ format: "uuid" }) });

// A version: decimal digits, no sign or leading zero, within int4 (nine digits are plenty).
const StatusEventHeaders = t.Object({
  "last-event-id": t.Optional(
    t.String({
      pattern: "^(0|[1-9][0-9]{0,8})$",
      description: "the `id` of the last event received (the order's version then): the stream resumes after it",
    }),
  ),
});

const ListQuery = t.Object({
  status: t.Optional(Status),
  ...pageQuery(),
});

const TAGS = ["orders"];

/** The orders module's HTTP API: place, read, list, cancel and ship orders. */
export function ordersRoutes(deps: OrdersRoutesDeps) {
  return new Elysia({ name: "orders-routes" })
    .use(requestContext())
    .use(authPlugin(deps.authenticator))
    .use(rateLimitPlugin({ perCustomer: deps.placeRateLimit }))
    .macro({ objectOrNoBody: { transform: objectOrNoBody } })
    .post(
      "/orders",
      async ({ body, headers, user, correlationId, set }) => {
        const input = { customer: { id: user.sub, email: user.email }, items: body.items, correlationId };
        const idempotencyKey = headers["idempotency-key"];
        const { order, replayed } =
          idempotencyKey === undefined
            ? { order: await placeOrder(deps, input), replayed: false }
            : await placeOrderIdempotently(deps, { ...input, idempotencyKey });
        // A replay answers as the first request did: 201 with the order as it was placed.
        set.status = 201;
        set.headers.location = `/orders/${order.id}`;
        if (replayed) set.headers["idempotent-replayed"] = "true";
        return orderBody(order);
      },
      {
        // Macros add their hooks in the order written: the token first, then the customer's rate, then validation.
        auth: "signed-in",
        rateLimit: "customer",
        headers: PlaceOrderHeaders,
        body: PlaceOrderBody,
        response: {
          201: answer(OrderBody, {
            location: t.String({ description: "the new order, /orders/{id}" }),
            "idempotent-replayed": t.Optional(t.Literal("true", { description: "present when this answer replays an earlier one" })),
          }),
          ...problems(400, 401, 409, 413, 422, 429, 500, 503),
        },
        detail: {
          tags: TAGS,
          summary: "Place an order",
          description:
            "Prices the items from the catalog and stores the order as `pending`; stock is reserved asynchronously " +
            "(the order becomes `confirmed` or `rejected`). Unknown or unavailable skus: 422 `ORDERS.UNKNOWN_SKU` with `skus`. " +
            "With an `Idempotency-Key`: the same key and body replay the first 201 (header `Idempotent-Replayed: true`); " +
            "the same key with another body is 422 `ORDERS.IDEMPOTENCY_KEY_REUSED`; while the first request is still running, " +
            "409 `ORDERS.IDEMPOTENCY_KEY_IN_FLIGHT`. A request that failed is not remembered: retry it with the same key. " +
            "Lines that would take the customer's units of a sku in pending and confirmed orders over the cap: 422 " +
            "`ORDERS.OPEN_UNITS_LIMIT` with `limit` and `skus` (each with what is `held` and `requested`). Rate-limited per " +
            "customer: 429 `RATE_LIMITED` with `Retry-After`.",
        },
      },
    )
    .get(
      "/orders/:id",
      async ({ params, user }) => orderBody(await getOrder(deps, { orderId: params.id, viewer: viewerOf(user) })),
      {
        auth: "signed-in",
        params: OrderIdParams,
        response: { 200: answer(OrderBody), ...problems(401, 404, 422, 500, 503) },
        detail: { tags: TAGS, summary: "Get an order (its owner or an admin; 404 for anyone else)" },
      },
    )
    .get(
      "/orders/:id/events",
      async ({ params, headers, user, request, server }) => {
        // Access as GET /orders/:id: the owner or an admin, 404 for anyone else.
        const order = await getOrder(deps, { orderId: params.id, viewer: viewerOf(user) });
        const lastEventId = headers["last-event-id"];
        const input = { orderId: params.id, after: lastEventId === undefined ? undefined : Number(lastEventId) };
        if (!hasStatusToFollow(order, input.after)) return new Response(null, { status: 204 });
        return deps.statusStreams.respond({ request, server }, (send, signal) =>
          followOrderStatus(deps, input, (event) => send({ id: String(event.version), event: "status", data: statusEventBody(event) }), signal),
        );
      },
      {
        auth: "signed-in",
        params: OrderIdParams,
        headers: StatusEventHeaders,
        response: {
          200: answer(eventStreamSchema("`retry:` once, then `event: status` events (`id:` the order's version, `data:` JSON) and heartbeat comments")),
          204: answer(t.Void({ description: "`Last-Event-ID` is the order's final status: nothing will follow (an EventSource stops reconnecting)" })),
          ...problems(401, 404, 422, 500, 503),
        },
        detail: {
          tags: TAGS,
          summary: "Follow an order's status as Server-Sent Events (its owner or an admin; 404 for anyone else)",
          description:
            "At once the order's current status, then every change as it happens, each an `event: status` with `id:` the order's " +
            "version after it and `data:` `{orderId, status, version, at, reason?}`; a heartbeat comment every `SSE_HEARTBEAT_INTERVAL`. " +
            "The stream ends after a final status (rejected, cancelled, shipped); a reconnect after it is 204. `Last-Event-ID` resumes: every status with a higher " +
            "version from the history, then the live ones; anything but a version is 422. 503 with `Retry-After` when the instance " +
            "holds `SSE_MAX_STREAMS` streams. Send the token in `Authorization` (a fetch-based SSE client; never in the query string).",
        },
      },
    )
    .get(
      "/orders",
      async ({ query, user }) => {
        const page = await listOrders(deps, { viewer: viewerOf(user), ...query });
        return { items: page.items.map(summaryBody), nextCursor: page.nextCursor };
      },
      {
        auth: "signed-in",
        query: ListQuery,
        response: { 200: answer(OrderPageBody), ...problems(401, 422, 500, 503) },
        detail: {
          tags: TAGS,
          summary: "List orders, newest first (a customer's own; every order for an admin)",
          description: "Keyset pagination: follow `nextCursor` until it is null. Items leave out the history.",
        },
      },
    )
    .post(
      "/orders/:id/cancel",
      async ({ params, body, user, correlationId }) =>
        orderBody(await cancelOrder(deps, { orderId: params.id, viewer: viewerOf(user), reason: body?.reason, correlationId })),
      {
        // Macros add their hooks in the order they are written here: the guard first, then the body check.
        auth: "signed-in",
        objectOrNoBody: true,
        params: OrderIdParams,
        body: CancelBody,
        response: { 200: answer(OrderBody), ...problems(400, 401, 404, 409, 413, 422, 500, 503) },
        detail: {
          tags: TAGS,
          summary: "Cancel an order (its owner or an admin; 404 for anyone else)",
          description:
            "From `pending` or `confirmed`; the reserved stock is released. Any other status: 409 `ORDERS.INVALID_TRANSITION` " +
            "with the order's current `orderStatus` and the statuses a cancel is `allowed` from. The body is optional; its `reason` " +
            "becomes the `statusReason` (default: cancelled by customer / by admin).",
        },
      },
    )
    .post(
      "/orders/:id/ship",
      async ({ params, user, correlationId }) => orderBody(await shipOrder(deps, { orderId: params.id, adminId: user.sub, correlationId })),
      {
        auth: "admin",
        params: OrderIdParams,
        response: { 200: answer(OrderBody), ...problems(401, 403, 404, 409, 422, 500, 503) },
        detail: {
          tags: TAGS,
          summary: "Ship a confirmed order (admin)",
          description: "From `confirmed` only; any other status: 409 `ORDERS.INVALID_TRANSITION` with the order's current `orderStatus`.",
        },
      },
    );
}

// Elysia validates an optional body only when it is a non-empty object: `5`, `"x"`, `[1]` or a text/plain
// body would skip validation and the cancel go through as if no body had been sent. So it is checked before
// validation (a `transform`), as a macro so that it comes after the `auth` guard's own transform.
function objectOrNoBody({ body }: { body: unknown }): void {
  if (body === undefined) return;
  const prototype = body !== null && typeof body === "object" ? Object.getPrototypeOf(body) : undefined;
  if (prototype !== Object.prototype && prototype !== null) {
    throw new InvalidError("REQUEST.BODY_NOT_OBJECT", "The body, when there is one, must be a JSON object.", {
      errors: [{ in: "body", field: "", message: "Expected object" }],
    });
  }
}

function viewerOf(principal: Principal): Viewer {
  return { id: principal.sub, isAdmin: principal.role === "admin" };
}

function statusEventBody(event: StatusEvent) {
  return {
    orderId: event.orderId,
    status: event.status,
    version: event.version,
    at: event.at.toISOString(),
    ...(event.reason === null ? {} : { reason: event.reason }),
  };
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
