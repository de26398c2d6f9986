import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { generateKeyPair, SignJWT } from "jose";
import { eventually } from "../test-support/eventually.ts";
import { readCheckedAnswer, type Answer } from "../test-support/hostile-input.ts";
import { admin, alice, bob, startTestShop, TEST_AUTH_SECRET, tokenFor, type TestShop } from "../test-support/shop.ts";
import { expectNothingWritten, settledSnapshot } from "../test-support/table-snapshot.ts";

// Who may do what. Every protected route refuses every kind of bad token with 401; a customer never
// reaches an admin route (403, nothing written); another customer's order looks exactly like a missing one.

let shop: TestShop;
const SKU = `AUTH-${crypto.randomUUID().slice(0, 8).toUpperCase()}`;
let aliceOrderId = "";

beforeAll(async () => {
  shop = await startTestShop("hostile_auth");
  const put = await shop.request(`/products/${SKU}`, { method: "PUT", as: admin, json: { name: "Auth mug", priceCents: 900, stock: 20 } });
  expect(put.status).toBe(201);
  const placed = await eventually(() => shop.request("/orders", { method: "POST", as: alice, json: { items: [{ sku: SKU, quantity: 2 }] } }), {
    accept: (res) => res.status === 201,
    what: "orders to know the product",
  });
  aliceOrderId = ((await placed.json()) as { id: string }).id;
  // Confirmed, so that ship and cancel would both succeed for the right caller: only the credentials stop them.
  await eventually(async () => ((await (await shop.request(`/orders/${aliceOrderId}`, { as: admin })).json()) as { status: string }).status, {
    accept: (status) => status === "confirmed",
    what: "the order to be confirmed",
  });
});

afterAll(async () => {
  await shop?.close();
});

const sql = () => shop.shop.databaseOf("orders").sql;
const encoder = new TextEncoder();
const b64url = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

interface ProtectedRoute {
  /** As in the OpenAPI document, e.g. "POST /orders/{id}/cancel". */
  route: string;
  method: string;
  path: () => string;
  /** A body the right caller would get a 2xx for: only the credentials may stop the request. */
  body?: () => unknown;
}

const PROTECTED: ProtectedRoute[] = [
  { route: "PUT /products/{sku}", method: "PUT", path: () => `/products/${SKU}`, body: () => ({ name: "Renamed by an intruder", priceCents: 1 }) },
  { route: "POST /products/{sku}/stock", method: "POST", path: () => `/products/${SKU}/stock`, body: () => ({ delta: 1000 }) },
  { route: "POST /orders", method: "POST", path: () => "/orders", body: () => ({ items: [{ sku: SKU, quantity: 1 }] }) },
  { route: "GET /orders", method: "GET", path: () => "/orders" },
  { route: "GET /orders/{id}", method: "GET", path: () => `/orders/${aliceOrderId}` },
  { route: "GET /orders/{id}/events", method: "GET", path: () => `/orders/${aliceOrderId}/events` },
  { route: "POST /orders/{id}/cancel", method: "POST", path: () => `/orders/${aliceOrderId}/cancel`, body: () => ({ reason: "intruder" }) },
  { route: "POST /orders/{id}/ship", method: "POST", path: () => `/orders/${aliceOrderId}/ship` },
  { route: "GET /notifications", method: "GET", path: () => "/notifications" },
];

/** Routes only an admin may use; everything else that writes is for customers (POST /orders, cancel). */
const ADMIN_ONLY = ["PUT /products/{sku}", "POST /products/{sku}/stock", "POST /orders/{id}/ship", "GET /notifications"];
const CUSTOMER_WRITES = ["POST /orders", "POST /orders/{id}/cancel"];

async function send(
  route: ProtectedRoute,
  authorization: string | undefined,
  extraHeaders: Record<string, string> = {},
): Promise<Answer & { wwwAuthenticate: string | null }> {
  const headers: Record<string, string> = { ...extraHeaders };
  if (authorization !== undefined) headers.authorization = authorization;
  const body = route.body?.();
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await shop.shop.http.handle(
    new Request(`http://localhost${route.path()}`, { method: route.method, headers, body: body === undefined ? undefined : JSON.stringify(body) }),
  );
  return readCheckedAnswer(res).then((answer) => ({ ...answer, wwwAuthenticate: res.headers.get("www-authenticate") }));
}

const validClaims = (overrides: Record<string, unknown> = {}) => ({ sub: "alice", email: "alice@example.com", role: "admin", exp: inAnHour(), ...overrides });

function hs256(claims: Record<string, unknown>, secret = TEST_AUTH_SECRET, header: Record<string, unknown> = { alg: "HS256", typ: "JWT" }) {
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(encoder.encode(secret));
}

/** A token whose header says `alg` but whose signature is HMAC-SHA256 with the real secret (algorithm confusion). */
async function relabelled(alg: string, claims = validClaims()): Promise<string> {
  const signingInput = `${b64url({ alg, typ: "JWT" })}.${b64url(claims)}`;
  const key = await crypto.subtle.importKey("raw", encoder.encode(TEST_AUTH_SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const signature = Buffer.from(await crypto.subtle.sign("HMAC", key, encoder.encode(signingInput))).toString("base64url");
  return `${signingInput}.${signature}`;
}

/** Every kind of credential that must not get past authentication: [what it is, Authorization header value]. */
async function badCredentials(): Promise<Array<[string, string | undefined]>> {
  const valid = await tokenFor(admin);
  const [head, payload, signature] = valid.split(".") as [string, string, string];
  const rsa = await generateKeyPair("RS256");
  const tampered = `${head}.${b64url({ ...JSON.parse(Buffer.from(payload, "base64url").toString()), sub: "mallory" })}.${signature}`;
  return [
    ["no Authorization header", undefined],
    ["'Bearer' alone", "Bearer"],
    ["'Bearer ' and spaces", "Bearer    "],
    ["'Bearer x.y'", "Bearer x.y"],
    ["three garbage parts", "Bearer a.b.c"],
    ["Basic credentials", `Basic ${Buffer.from("admin:admin").toString("base64")}`],
    ["a token without its scheme", valid],
    ["two tokens", `Bearer ${valid} ${valid}`],
    ["expired", `Bearer ${await hs256(validClaims({ exp: Math.floor(Date.now() / 1000) - 60 }))}`],
    ["not valid yet", `Bearer ${await hs256(validClaims({ nbf: inAnHour() }))}`],
    ["signed with another secret", `Bearer ${await hs256(validClaims(), "another-secret-0123456789-0123456789-abc")}`],
    ["a flipped signature", `Bearer ${head}.${payload}.${signature.slice(0, -2)}${signature.endsWith("AA") ? "BB" : "AA"}`],
    ["a tampered payload", `Bearer ${tampered}`],
    ["no signature", `Bearer ${head}.${payload}.`],
    ["alg none", `Bearer ${b64url({ alg: "none", typ: "JWT" })}.${b64url(validClaims())}.`],
    ["alg None", `Bearer ${b64url({ alg: "None", typ: "JWT" })}.${b64url(validClaims())}.`],
    ["alg none with a signature", `Bearer ${b64url({ alg: "none" })}.${b64url(validClaims())}.${signature}`],
    ["HS512 with the right secret", `Bearer ${await hs512(validClaims())}`],
    ["HS512 header, HS256 signature", `Bearer ${await relabelled("HS512")}`],
    ["RS256 header, HMAC signature", `Bearer ${await relabelled("RS256")}`],
    ["a real RS256 token", `Bearer ${await new SignJWT(validClaims()).setProtectedHeader({ alg: "RS256" }).sign(rsa.privateKey)}`],
    ["no role claim", `Bearer ${await hs256(validClaims({ role: undefined }))}`],
    ["no sub claim", `Bearer ${await hs256(validClaims({ sub: undefined }))}`],
    ["no email claim", `Bearer ${await hs256(validClaims({ email: undefined }))}`],
    ["no exp claim", `Bearer ${await hs256(validClaims({ exp: undefined }))}`],
    ["an unknown role", `Bearer ${await hs256(validClaims({ role: "superadmin" }))}`],
    ["role 'Admin'", `Bearer ${await hs256(validClaims({ role: "Admin" }))}`],
    ["role as a list", `Bearer ${await hs256(validClaims({ role: ["admin"] }))}`],
    ["an empty sub", `Bearer ${await hs256(validClaims({ sub: "" }))}`],
    ["an email without @", `Bearer ${await hs256(validClaims({ email: "alice" }))}`],
  ];
}

// Signed by hand: jose refuses to sign HS512 with a key this short, and the case must never silently degrade.
async function hs512(claims: Record<string, unknown>): Promise<string> {
  const signingInput = `${b64url({ alg: "HS512", typ: "JWT" })}.${b64url(claims)}`;
  const key = await crypto.subtle.importKey("raw", encoder.encode(TEST_AUTH_SECRET), { name: "HMAC", hash: "SHA-512" }, false, ["sign"]);
  return `${signingInput}.${Buffer.from(await crypto.subtle.sign("HMAC", key, encoder.encode(signingInput))).toString("base64url")}`;
}

describe("authentication", () => {
  test("when any protected route gets a missing, malformed, expired, forged, alg-none, HS512, RS256 or claim-less token, then 401 with WWW-Authenticate: Bearer and nothing is written", async () => {
    const credentials = await badCredentials();
    const before = await settledSnapshot(sql());
    const failures: string[] = [];
    for (const route of PROTECTED) {
      for (const [what, authorization] of credentials) {
        const answer = await send(route, authorization);
        if (answer.status !== 401 || answer.wwwAuthenticate !== "Bearer") {
          failures.push(`${route.route} with ${what}: ${answer.status} www-authenticate=${answer.wwwAuthenticate}`);
        }
      }
    }
    expect(failures).toEqual([]);
    await expectNothingWritten(sql(), before);
  });

  test("when every protected route of the OpenAPI document is listed here, then a new one cannot skip these tests", async () => {
    const spec = (await (await shop.request("/docs/json")).json()) as { paths: Record<string, Record<string, { security?: unknown[] }>> };
    const secured = Object.entries(spec.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([, operation]) => (operation.security ?? []).length > 0)
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(secured.sort()).toEqual(PROTECTED.map((r) => r.route).sort());
  });
});

describe("authorisation", () => {
  test("when the OpenAPI document lists a route that writes, then it is either a customer write or on the admin-only list tested here", async () => {
    const spec = (await (await shop.request("/docs/json")).json()) as { paths: Record<string, Record<string, unknown>> };
    const writes = Object.entries(spec.paths).flatMap(([path, operations]) =>
      Object.keys(operations)
        .filter((method) => method !== "get")
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(writes.length).toBeGreaterThan(0);
    for (const route of writes) {
      if (!CUSTOMER_WRITES.includes(route)) expect(ADMIN_ONLY).toContain(route);
    }
  });

  test("when a customer token, however dressed up, calls an admin-only route, then 403 and nothing is written, even with an invalid body", async () => {
    const disguises: Array<[string, string, Record<string, string>]> = [
      ["a customer token", `Bearer ${await tokenFor(alice)}`, {}],
      ["extra isAdmin/admin claims", `Bearer ${await hs256({ ...validClaims({ role: "customer" }), isAdmin: true, admin: true, roles: ["admin"], scope: "admin" })}`, {}],
      ["an X-Role: admin header", `Bearer ${await tokenFor(bob)}`, { "x-role": "admin", "x-user-role": "admin", "x-forwarded-user": "admin" }],
      ["a customer with sub 'admin'", `Bearer ${await hs256(validClaims({ sub: "admin", email: "admin@example.com", role: "customer" }))}`, {}],
    ];
    const before = await settledSnapshot(sql());
    for (const route of PROTECTED.filter((r) => ADMIN_ONLY.includes(r.route))) {
      for (const [what, authorization, headers] of disguises) {
        const answer = await send(route, authorization, headers);
        expect({ route: route.route, what, status: answer.status, code: answer.problem?.code }).toEqual({
          route: route.route,
          what,
          status: 403,
          code: "AUTH.ADMIN_ONLY",
        });
      }
      // The refusal comes before validation: a customer learns nothing about the route's inputs.
      const junk = await send({ ...route, body: route.body && (() => ({ junk: true })) }, `Bearer ${await tokenFor(alice)}`);
      expect(junk.status).toBe(403);
    }
    await expectNothingWritten(sql(), before);
    // The same calls with an admin token do go through (the bodies above were valid).
    const ship = await send(PROTECTED.find((r) => r.route === "POST /orders/{id}/ship")!, `Bearer ${await tokenFor(admin)}`);
    expect(ship.status).toBe(200);
  });
});

describe("another customer's order", () => {
  /** The problem document without what differs between two requests: the request id and the order id asked for. */
  function comparable(answer: Answer, orderId: string) {
    const { requestId: _requestId, ...rest } = answer.problem ?? {};
    return JSON.parse(JSON.stringify(rest).replaceAll(orderId, "<order-id>")) as Record<string, unknown>;
  }

  test("when bob reads or cancels alice's order, then he gets a 404 indistinguishable from a missing order and the order is untouched", async () => {
    const { id: orderId } = (await (
      await eventually(() => shop.request("/orders", { method: "POST", as: alice, json: { items: [{ sku: SKU, quantity: 1 }] } }), {
        accept: (res) => res.status === 201,
      })
    ).json()) as { id: string };
    const missingId = Bun.randomUUIDv7();
    const before = await settledSnapshot(sql());
    const bobToken = `Bearer ${await tokenFor(bob)}`;

    for (const action of ["read", "cancel"] as const) {
      const route = (id: string): ProtectedRoute =>
        action === "read"
          ? { route: "GET /orders/{id}", method: "GET", path: () => `/orders/${id}` }
          : { route: "POST /orders/{id}/cancel", method: "POST", path: () => `/orders/${id}/cancel`, body: () => ({ reason: "not mine" }) };
      const others = await send(route(orderId), bobToken);
      const missing = await send(route(missingId), bobToken);
      expect(others.status).toBe(404);
      expect(missing.status).toBe(404);
      expect(others.contentType).toBe(missing.contentType);
      expect(comparable(others, orderId)).toEqual(comparable(missing, missingId));
    }
    const list = (await (await shop.request("/orders?limit=100", { as: bob })).json()) as { items: Array<{ id: string }> };
    expect(list.items.map((o) => o.id)).not.toContain(orderId);
    await expectNothingWritten(sql(), before);

    const own = await shop.request(`/orders/${orderId}`, { as: alice });
    expect(own.status).toBe(200);
    expect(((await own.json()) as { status: string }).status).not.toBe("cancelled");
  });
});
