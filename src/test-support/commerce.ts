import { expect } from "bun:test";
import type { Principal } from "../platform/http/principal.ts";
import { eventually } from "./eventually.ts";
import { admin, type TestShop } from "./shop.ts";

// What the commerce end-to-end tests (src/commerce-*.test.ts) see of the shop: its HTTP answers, plus a few
// reads of the modules' own tables used only as sync points ("orders has the price", "inventory handled it").

export type OrderStatus = "pending" | "confirmed" | "rejected" | "cancelled" | "shipped";

export interface OrderView {
  id: string;
  status: OrderStatus;
  statusReason: string | null;
  customerId: string;
  items: Array<{ sku: string; name: string; quantity: number; unitPriceCents: number; lineTotalCents: number }>;
  totalCents: number;
  currency: string;
  version: number;
  history: Array<{ status: OrderStatus; at: string; reason?: string }>;
}

export interface ProductView {
  sku: string;
  name: string;
  priceCents: number;
  currency: string;
  active: boolean;
  onHand: number;
  reserved: number;
  available: number;
}

export interface MailView {
  orderId: string;
  template: "order-confirmed" | "order-rejected" | "order-cancelled" | "order-shipped";
  to: string;
  subject: string;
  status: "pending" | "sent" | "failed";
}

export interface Problem {
  status: number;
  code?: string;
  detail?: string;
  orderStatus?: string;
}

export type Line = { sku: string; quantity: number };

/** A sku no other test uses. */
export function newSku(label: string): string {
  return `${label}-${crypto.randomUUID().slice(0, 8)}`;
}

/** A customer no other test uses. */
export function newCustomer(label: string): Principal {
  const sub = `${label}-${crypto.randomUUID().slice(0, 8)}`;
  return { sub, email: `${sub}@example.com`, role: "customer" };
}

export async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** The HTTP calls and waits of a commerce scenario against one test shop. */
export function commerce(shop: TestShop) {
  // Each module's tables are read in that module's database (the same one unless TEST_SEPARATE_DATABASES=1).
  const sqlOf = (module: "orders" | "inventory" | "notification") => shop.shop.databaseOf(module).sql;

  const api = {
    /** PUT /products/:sku as admin (201), then waits until orders holds its price, so it can be ordered at once. */
    async createProduct(sku: string, stock: number, priceCents = 1000): Promise<ProductView> {
      const res = await shop.request(`/products/${sku}`, { method: "PUT", as: admin, json: { name: `Product ${sku}`, priceCents, currency: "EUR", stock } });
      expect(res.status).toBe(201);
      await api.ordersKnow(sku, { priceCents });
      return json<ProductView>(res);
    },

    /** PUT /products/:sku with a new price (200), then waits until orders prices with it. */
    async changePrice(sku: string, priceCents: number): Promise<ProductView> {
      const res = await shop.request(`/products/${sku}`, { method: "PUT", as: admin, json: { name: `Product ${sku}`, priceCents, currency: "EUR" } });
      expect(res.status).toBe(200);
      await api.ordersKnow(sku, { priceCents });
      return json<ProductView>(res);
    },

    /** Sync point: orders' local catalog copy (fed by inventory.product-upserted) shows the product like this. */
    async ordersKnow(sku: string, expected: { priceCents?: number; active?: boolean }): Promise<void> {
      const copy = async () =>
        (await sqlOf("orders")<{ priceCents: number; active: boolean }[]>`select price_cents::int as "priceCents", active from orders.catalog where sku = ${sku}`)[0];
      await eventually(copy, {
        accept: (row) => row !== undefined && (expected.priceCents ?? row.priceCents) === row.priceCents && (expected.active ?? row.active) === row.active,
        what: `orders to know ${sku} as ${JSON.stringify(expected)}`,
      });
    },

    /** GET /products/:sku as admin: the product with its stock, retired or not. */
    async product(sku: string): Promise<ProductView> {
      const res = await shop.request(`/products/${sku}`, { as: admin });
      expect(res.status).toBe(200);
      return json<ProductView>(res);
    },

    /** Polls GET /products/:sku until `accept` holds; returns the product as last seen. */
    productEventually(sku: string, accept: (p: ProductView) => boolean, what: string): Promise<ProductView> {
      return eventually(() => api.product(sku), { accept, what, intervalMs: 100 });
    },

    place(as: Principal, items: Line[], headers: Record<string, string> = {}): Promise<Response> {
      return shop.request("/orders", { method: "POST", as, json: { items }, headers });
    },

    /** POST /orders that must answer 201 pending. */
    async placeOk(as: Principal, items: Line[]): Promise<OrderView> {
      const res = await api.place(as, items);
      expect(res.status).toBe(201);
      const order = await json<OrderView>(res);
      expect(order.status).toBe("pending");
      return order;
    },

    async order(id: string, as: Principal = admin): Promise<OrderView> {
      const res = await shop.request(`/orders/${id}`, { as });
      expect(res.status).toBe(200);
      return json<OrderView>(res);
    },

    /** Polls GET /orders/:id until the order reaches `status`. */
    orderEventually(id: string, status: OrderStatus): Promise<OrderView> {
      return eventually(() => api.order(id), { accept: (o) => o.status === status, what: `order ${id} to be ${status}`, intervalMs: 100 });
    },

    /** Places and waits for the confirmation. */
    async confirmedOrder(as: Principal, items: Line[]): Promise<OrderView> {
      return api.orderEventually((await api.placeOk(as, items)).id, "confirmed");
    },

    cancel(id: string, as: Principal, body?: { reason?: string }): Promise<Response> {
      return shop.request(`/orders/${id}/cancel`, { method: "POST", as, json: body });
    },

    ship(id: string, as: Principal = admin): Promise<Response> {
      return shop.request(`/orders/${id}/ship`, { method: "POST", as });
    },

    async mails(orderId: string): Promise<MailView[]> {
      const res = await shop.request(`/notifications?orderId=${orderId}`, { as: admin });
      expect(res.status).toBe(200);
      return (await json<{ items: MailView[] }>(res)).items;
    },

    /**
     * Waits until the order has as many e-mails as `templates` names, then asserts they are exactly those
     * (each once, to the customer).
     */
    async expectMails(orderId: string, templates: MailView["template"][], to?: string): Promise<MailView[]> {
      const mails = await eventually(() => api.mails(orderId), {
        accept: (m) => m.length >= templates.length,
        what: `e-mails ${templates.join(", ")} of order ${orderId}`,
        intervalMs: 100,
      });
      expect(mails.map((m) => m.template).sort()).toEqual([...templates].sort());
      if (to) for (const mail of mails) expect(mail.to).toBe(to);
      return mails;
    },

    /** The text body the customer receives for one template of an order. */
    async mailText(orderId: string, template: MailView["template"]): Promise<string> {
      const rows = await sqlOf("notification")<{ text: string }[]>`
        select text_body as text from notification.notifications where order_id = ${orderId} and template = ${template}`;
      expect(rows).toHaveLength(1);
      return rows[0]!.text;
    },

    /** The envelope ids of the events orders emitted about an order, waiting until all of `eventNames` are there. */
    async ordersEventIds(orderId: string, eventNames: string[]): Promise<string[]> {
      return eventually(
        async () =>
          (
            await sqlOf("orders")<{ id: string }[]>`
              select id::text from orders.outbox where envelope->'data'->>'orderId' = ${orderId} and name in ${sqlOf("orders")(eventNames)}`
          ).map((r) => r.id),
        { accept: (ids) => ids.length === eventNames.length, what: `orders to emit ${eventNames.join(", ")} for ${orderId}` },
      );
    },

    /** Sync point: inventory has handled these events of orders about the order, so its stock is final for them. */
    async inventoryHandled(orderId: string, eventNames: string[]): Promise<void> {
      await api.handledBy("inventory", await api.ordersEventIds(orderId, eventNames));
    },

    /** Sync point: the module's inbox holds every one of these message ids (it has applied them). */
    async handledBy(module: "orders" | "inventory" | "notification", messageIds: string[]): Promise<void> {
      await eventually(
        async () => {
          const sql = sqlOf(module);
          return (await sql<{ n: number }[]>`select count(*)::int as n from ${sql(`${module}.inbox`)} where message_id in ${sql(messageIds)}`)[0]!.n;
        },
        { accept: (n) => n === messageIds.length, what: `${module} to handle ${messageIds.join(", ")}`, intervalMs: 100 },
      );
    },

    /** The events inventory emitted about an order, oldest first (with their lines, when they carry some). */
    async inventoryEvents(orderId: string): Promise<Array<{ id: string; name: string; items?: Line[] }>> {
      const rows = await sqlOf("inventory")<{ id: string; name: string; data: { items?: Line[] } }[]>`
        select id::text, name, envelope->'data' as data from inventory.outbox
        where envelope->'data'->>'orderId' = ${orderId} order by created_at, id`;
      return rows.map((r) => ({ id: r.id, name: r.name, ...(r.data.items ? { items: r.data.items } : {}) }));
    },

    /**
     * Runs `body` while one row of a module's table is locked, so the handlers that write it wait: with
     * `inventory.products` an order for the sku stays pending (nothing can be reserved); with `orders.catalog`
     * orders keeps pricing from the copy it had. The lock goes when `body` ends.
     */
    async withRowLocked<T>(table: "inventory.products" | "orders.catalog", sku: string, body: () => Promise<T>): Promise<T> {
      let result!: T;
      const sql = sqlOf(table === "inventory.products" ? "inventory" : "orders");
      await sql.begin(async (tx) => {
        await tx`select sku from ${tx(table)} where sku = ${sku} for update`;
        result = await body();
      });
      return result;
    },

    /** Every page of GET /orders for `as` (with `query`), following nextCursor until it is null. */
    async orderPages(as: Principal, query: Record<string, string> = {}): Promise<OrderView[][]> {
      const pages: OrderView[][] = [];
      let cursor: string | null = null;
      do {
        const params = new URLSearchParams({ ...query, ...(cursor ? { cursor } : {}) });
        const res = await shop.request(`/orders?${params}`, { as });
        expect(res.status).toBe(200);
        const page: { items: OrderView[]; nextCursor: string | null } = await json(res);
        pages.push(page.items);
        cursor = page.nextCursor;
        if (pages.length > 1000) throw new Error("GET /orders never ends");
      } while (cursor);
      return pages;
    },
  };
  return api;
}
