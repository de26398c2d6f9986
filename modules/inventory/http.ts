import { Elysia, status, t, type Static } from "elysia";
import { Currency } from "../../src/platform/formats.ts";
import { authPlugin } from "../../src/platform/http/auth.ts";
import type { Authenticator } from "../../src/platform/http/authenticator.ts";
import type { Principal } from "../../src/platform/http/principal.ts";
import { JsonInteger } from "../../src/platform/http/integer-schemas.ts";
import { NextCursor, pageQuery } from "../../src/platform/http/page-query.ts";
import type { ClientAddressSettings } from "../../src/platform/http/client-address.ts";
import { rateLimitPlugin, type RateLimitSettings } from "../../src/platform/http/rate-limit.ts";
import { answer, problems } from "../../src/platform/http/problem-responses.ts";
import { requestContext } from "../../src/platform/http/request-context.ts";
import { adjustStock } from "./application/adjust-stock.ts";
import { getProduct } from "./application/get-product.ts";
import { listProducts } from "./application/list-products.ts";
import { DEFAULT_CURRENCY, upsertProduct } from "./application/upsert-product.ts";
import { Sku } from "./contract.ts";
import { availableStock, MAX_UNITS } from "./domain/stock.ts";
import type { Product } from "./domain/product.ts";
import type { InventoryDeps } from "./ports.ts";

const CurrencyCode = Currency({ examples: ["EUR"] });
const PriceCents = JsonInteger({ minimum: 0, maximum: MAX_UNITS, description: "price in minor units (cents)" });
const Units = JsonInteger({ minimum: 0, maximum: MAX_UNITS });

const Availability = t.Union([t.Literal("in-stock"), t.Literal("out-of-stock")], {
  description: "in-stock when at least one unit can be ordered; the storefront is not told how many",
});

/** What the storefront (anyone but an admin) sees of an active product. */
const StorefrontProduct = t.Object({ sku: Sku, name: t.String(), priceCents: PriceCents, currency: CurrencyCode, availability: Availability });

/** What an admin sees of any product, retired or not: the storefront's view and the stock behind it. */
const ProductDetail = t.Object({
  ...StorefrontProduct.properties,
  active: t.Boolean(),
  onHand: Units,
  reserved: Units,
  available: Units,
  version: JsonInteger({ minimum: 1 }),
  updatedAt: t.String({ format: "date-time" }),
});

// One object schema with the admin's fields optional rather than a union of the two views: Elysia checks and
// cleans a union member by member on every answer, which cost a third of GET /products' CPU.
const ProductView = t.Object(
  { ...StorefrontProduct.properties, ...t.Partial(t.Omit(ProductDetail, Object.keys(StorefrontProduct.properties))).properties },
  { description: "anyone sees active products with `availability`; an admin sees every product, with its stock and state as well" },
);

const ProductList = t.Object({
  items: t.Array(ProductView),
  nextCursor: NextCursor,
});

const ListQuery = t.Object(pageQuery());

const SkuParams = t.Object({ sku: Sku });

// No `default`s: Elysia would write them into the body, and an update could not tell "left out" from "given".
const ProductBody = t.Object({
  name: t.String({ minLength: 1, maxLength: 200, pattern: "\\S" }),
  priceCents: PriceCents,
  currency: t.Optional(
    Currency({
      description:
        `ISO 4217 code; ${DEFAULT_CURRENCY} when creating without one. An existing product keeps its currency: leave it out ` +
        "(or send the current one); another one is 409 `INVENTORY.CURRENCY_CHANGE`",
    }),
  ),
  active: t.Optional(t.Boolean({ description: "false retires the product; true when creating without it; left out on update: unchanged" })),
  stock: t.Optional(JsonInteger({ minimum: 0, maximum: MAX_UNITS, description: "on-hand units when creating; ignored on update" })),
}, { examples: [{ name: "Red mug", priceCents: 1200, currency: "EUR", stock: 25 }] });

const StockBody = t.Object({
  delta: JsonInteger({ minimum: -MAX_UNITS, maximum: MAX_UNITS, description: "units to add (negative: remove); not 0" }),
}, { examples: [{ delta: 10 }] });

export interface InventoryRoutesDeps extends InventoryDeps {
  authenticator: Authenticator;
  /** The public catalog reads, per client address; absent: no limit. */
  publicRateLimit?: RateLimitSettings | undefined;
  clientAddress?: ClientAddressSettings | undefined;
}

/** The catalog API: browsing for anyone, editing and stock corrections for admins. */
export function inventoryRoutes(deps: InventoryRoutesDeps) {
  return (
    new Elysia({ name: "inventory-routes", detail: { tags: ["inventory"] } })
      .use(requestContext())
      .use(authPlugin(deps.authenticator))
      .use(rateLimitPlugin({ perClientAddress: deps.publicRateLimit, clientAddress: deps.clientAddress }))
      .get(
        "/products",
        async ({ query, principal }) => {
          const admin = isAdmin(principal);
          const page = await listProducts(deps, { ...query, includeRetired: admin });
          const items = admin ? page.items.map(productDetail) : page.items.map(storefrontProduct);
          return { items, nextCursor: page.nextCursor };
        },
        {
          rateLimit: "client-address",
          query: ListQuery,
          response: { 200: answer(ProductList), ...problems(401, 422, 429, 500, 503) },
          detail: {
            summary: "List products (keyset pagination by sku)",
            description:
              "Anyone: the active products with `availability` (in-stock / out-of-stock). An admin: every product, retired ones " +
              "included, with on-hand, reserved and available stock. Rate-limited per client address (429 with `Retry-After`).",
          },
        },
      )
      .get(
        "/products/:sku",
        async ({ params, principal }) => {
          const admin = isAdmin(principal);
          const product = await getProduct(deps, params.sku, { includeRetired: admin });
          return admin ? productDetail(product) : storefrontProduct(product);
        },
        {
          rateLimit: "client-address",
          params: SkuParams,
          response: { 200: answer(ProductView), ...problems(401, 404, 422, 429, 500, 503) },
          detail: {
            summary: "One product",
            description:
              "Anyone: an active product with `availability`; a retired one is 404 like an unknown sku. An admin: any product " +
              "with on-hand, reserved and available stock. Rate-limited per client address, with GET /products (429 with `Retry-After`).",
          },
        },
      )
      .put(
        "/products/:sku",
        async ({ params, body, correlationId }) => {
          const { product, created } = await upsertProduct(
            deps,
            { sku: params.sku, name: body.name, priceCents: body.priceCents, currency: body.currency, active: body.active, stock: body.stock },
            { correlationId },
          );
          return created ? status(201, productDetail(product)) : status(200, productDetail(product));
        },
        {
          auth: "admin",
          params: SkuParams,
          body: ProductBody,
          response: { 200: answer(ProductDetail), 201: answer(ProductDetail), ...problems(400, 401, 403, 409, 413, 422, 500, 503) },
          detail: {
            summary: "Create (201) or update (200) a product (admin)",
            description:
              "`name` and `priceCents` are always required. What the body leaves out is kept: an update without `active` " +
              `leaves the product active or retired as it was, and never changes its currency; a new product gets ${DEFAULT_CURRENCY}, ` +
              "active, and `stock` units (default 0). A `currency` other than the product's is 409 `INVENTORY.CURRENCY_CHANGE`.",
          },
        },
      )
      .post(
        "/products/:sku/stock",
        async ({ params, body, correlationId }) => {
          return productDetail(await adjustStock(deps, params.sku, body.delta, { correlationId }));
        },
        {
          auth: "admin",
          params: SkuParams,
          body: StockBody,
          response: { 200: answer(ProductDetail), ...problems(400, 401, 403, 404, 409, 413, 422, 500, 503) },
          detail: { summary: "Adjust on-hand stock by a delta (admin); never below what is reserved" },
        },
      )
  );
}

function isAdmin(principal: Principal | null): boolean {
  return principal?.role === "admin";
}

function storefrontProduct(product: Product): Static<typeof StorefrontProduct> {
  return {
    sku: product.sku,
    name: product.name,
    priceCents: product.priceCents,
    currency: product.currency,
    availability: availableStock(product) > 0 ? "in-stock" : "out-of-stock",
  };
}

function productDetail(product: Product): Static<typeof ProductDetail> {
  return {
    ...storefrontProduct(product),
    active: product.active,
    onHand: product.onHand,
    reserved: product.reserved,
    available: availableStock(product),
    version: product.version,
    updatedAt: product.updatedAt.toISOString(),
  };
}
