import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { commerce, json, newSku, type MailView, type OrderView, type Problem } from "./test-support/commerce.ts";
import { eventually } from "./test-support/eventually.ts";
import { startIdentityProvider, type TestIdentityProvider } from "./test-support/identity-provider.ts";
import { startTestShop, type TestShop } from "./test-support/shop.ts";

// The whole shop, configured from the environment like a deployment, taking its customers' tokens from an identity
// provider (Keycloak-shaped: roles under realm_access.roles) next to its own HS256 tokens.
let idp: TestIdentityProvider;
let shop: TestShop;
let c: ReturnType<typeof commerce>;

beforeAll(async () => {
  idp = await startIdentityProvider();
  shop = await startTestShop("identity_provider", {
    AUTH_JWKS_URL: idp.jwksUrl,
    AUTH_ISSUER: idp.issuer,
    AUTH_AUDIENCE: "shop-api",
    AUTH_ROLE_CLAIM: "realm_access.roles",
    AUTH_JWKS_TIMEOUT_MS: "500",
    AUTH_JWKS_COOLDOWN: "1h",
  });
  c = commerce(shop);
});
afterAll(async () => {
  await shop?.close();
  await idp?.close();
});

const carol = { sub: `kc-${crypto.randomUUID()}`, email: "carol@example.com", aud: "shop-api", realm_access: { roles: ["offline_access"] } };
const boss = { sub: `kc-${crypto.randomUUID()}`, email: "boss@example.com", aud: "shop-api", realm_access: { roles: ["shop-admin"] } };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("tokens from an identity provider, through the whole shop", () => {
  test("when a provider's customer orders and its admin ships, then the order is the customer's, e-mailed to the token's address", async () => {
    const sku = newSku("IDP");
    await c.createProduct(sku, 5); // with the shop's own admin token: both kinds work side by side

    const customerToken = await idp.sign(carol, { alg: "ES256" });
    const placed = await shop.request("/orders", { method: "POST", headers: bearer(customerToken), json: { items: [{ sku, quantity: 1 }] } });
    expect(placed.status).toBe(201);
    const order = await json<OrderView & { customerId: string }>(placed);
    expect(order.customerId).toBe(carol.sub);
    await c.orderEventually(order.id, "confirmed");

    const customerShips = await shop.request(`/orders/${order.id}/ship`, { method: "POST", headers: bearer(customerToken) });
    expect(customerShips.status).toBe(403);
    const adminToken = await idp.sign(boss, { alg: "RS256" });
    const shipped = await shop.request(`/orders/${order.id}/ship`, { method: "POST", headers: bearer(adminToken) });
    expect(shipped.status).toBe(200);
    expect((await json<OrderView>(shipped)).status).toBe("shipped");

    const mails = await eventually(
      async () => json<{ items: MailView[] }>(await shop.request(`/notifications?orderId=${order.id}`, { headers: bearer(adminToken) })),
      { accept: (page) => page.items.length === 2, what: "the order's two e-mails" },
    );
    expect(mails.items.map((m) => m.to)).toEqual(["carol@example.com", "carol@example.com"]);
  });

  test("when a provider token is for another audience, then the shop answers 401", async () => {
    const res = await shop.request("/orders", { headers: bearer(await idp.sign({ ...carol, aud: "another-app" })) });
    expect(res.status).toBe(401);
    expect(await json<Problem>(res)).toMatchObject({ code: "AUTH.INVALID_TOKEN" });
  });

  test("when tokens name kids the key set lacks while the provider hangs, then 401 at once, with no refetch within the cooldown; the shop's own tokens still work", async () => {
    await shop.request("/orders", { headers: bearer(await idp.sign(carol)) }); // the key set is in hand
    const fetches = idp.fetches();
    idp.behave("hang");
    try {
      for (let i = 0; i < 3; i++) {
        const res = await shop.request("/orders", { headers: bearer(await idp.sign(carol, { kid: `forged-${i}` })) });
        expect(res.status).toBe(401);
        expect(await json<Problem>(res)).toMatchObject({ code: "AUTH.INVALID_TOKEN" });
      }
      expect(idp.fetches()).toBe(fetches);
      expect((await shop.request("/orders", { as: { sub: "alice", email: "alice@example.com", role: "customer" } })).status).toBe(200);
    } finally {
      idp.behave("serve");
    }
  });
});
