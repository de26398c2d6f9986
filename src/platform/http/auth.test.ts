import { describe, expect, test } from "bun:test";
import { Elysia, t } from "elysia";
import { SignJWT } from "jose";
import pino from "pino";
import { authPlugin } from "./auth.ts";
import { createAuthenticator } from "./authenticator.ts";
import type { Principal } from "./principal.ts";
import { signToken } from "./shop-tokens.ts";
import { requestContext } from "./request-context.ts";
import { createHttpApp } from "./server.ts";
import { eventually } from "../../test-support/eventually.ts";

// Response.json() is typed unknown; these tests inspect free-form problem documents.
const json = (res: Response): Promise<any> => res.json();

const SECRET = "test-secret-of-at-least-32-characters!";
const authenticator = createAuthenticator({ secret: SECRET });
const alice: Principal = { sub: `alice-${crypto.randomUUID()}`, email: "alice@example.com", role: "customer" };
const admin: Principal = { sub: `admin-${crypto.randomUUID()}`, email: "admin@example.com", role: "admin" };

// A module router, built the way modules build theirs: its own instance that uses the plugins and the guard.
const moduleRoutes = new Elysia({ prefix: "/things" })
  .use(requestContext())
  .use(authPlugin(authenticator))
  .get("/public", ({ principal }) => ({ principal }))
  .get("/mine", ({ user }) => user, { auth: "signed-in" })
  .get("/admin", ({ user }) => user, { auth: "admin" })
  .get("/admin/search", ({ query }) => query, { auth: "admin", query: t.Object({ q: t.String({ minLength: 3 }) }) });

const app = createHttpApp({ logger: pino({ level: "silent" }), authenticator, readiness: {} }).use(moduleRoutes);

function get(path: string, authorization?: string) {
  return app.handle(new Request(`http://localhost${path}`, { headers: authorization ? { authorization } : {} }));
}

const b64url = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("authPlugin", () => {
  test("when no Authorization header is sent, then the principal is null", async () => {
    const res = await get("/things/public");
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ principal: null });
  });

  test("when no token is sent to a route that requires a user, then 401 AUTH.REQUIRED with WWW-Authenticate", async () => {
    const res = await get("/things/mine");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
    expect(await json(res)).toMatchObject({ status: 401, code: "AUTH.REQUIRED" });
  });

  test("when a valid customer token is sent, then the route sees that principal", async () => {
    const token = await signToken(SECRET, alice);
    expect(await json(await get("/things/public", `Bearer ${token}`))).toEqual({ principal: alice });
    const res = await get("/things/mine", `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual(alice);
  });

  test("when a customer calls an admin route, then 403 AUTH.ADMIN_ONLY", async () => {
    const res = await get("/things/admin", `Bearer ${await signToken(SECRET, alice)}`);
    expect(res.status).toBe(403);
    expect(await json(res)).toMatchObject({ status: 403, code: "AUTH.ADMIN_ONLY" });
  });

  test("when a customer or nobody calls an admin route with an invalid query, then 403 or 401: the guard answers before validation", async () => {
    const customer = await get("/things/admin/search?q=x", `Bearer ${await signToken(SECRET, alice)}`);
    expect(customer.status).toBe(403);
    expect(await json(customer)).toMatchObject({ code: "AUTH.ADMIN_ONLY" });
    const anonymous = await get("/things/admin/search?q=x");
    expect(anonymous.status).toBe(401);
    expect(await json(anonymous)).toMatchObject({ code: "AUTH.REQUIRED" });
    expect((await get("/things/admin/search?q=x", `Bearer ${await signToken(SECRET, admin)}`)).status).toBe(422);
  });

  test("when routes are guarded, then /docs/json documents the bearer token on them and not on the public one", async () => {
    const doc = await json(await get("/docs/json"));
    expect(doc.paths["/things/mine"].get.security).toEqual([{ bearer: [] }]);
    expect(doc.paths["/things/admin"].get.security).toEqual([{ bearer: [] }]);
    expect(doc.paths["/things/public"].get.security).toBeUndefined();
  });

  test("when root and module router both apply the plugins, then a route derives the principal and the ids once per request", () => {
    // Elysia merges a named plugin's hooks into a route once (by name and seed); an unnamed plugin would run twice.
    const route = app.routes.find((r) => r.method === "GET" && r.path === "/things/public");
    const transforms = (route?.hooks.transform ?? []) as Array<{ subType?: string }>;
    expect(transforms.filter((hook) => hook.subType === "derive")).toHaveLength(2);
  });

  test("when an admin calls an admin route, then 200", async () => {
    const res = await get("/things/admin", `Bearer ${await signToken(SECRET, admin)}`);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual(admin);
  });

  const invalid: [string, () => Promise<string>][] = [
    ["a malformed header", async () => "Token abc"],
    ["a malformed token", async () => "Bearer not.a.jwt"],
    ["an expired token", async () => `Bearer ${await signToken(SECRET, alice, { expiresIn: "-1m" })}`],
    ["a token signed with another secret", async () => `Bearer ${await signToken("another-secret-that-is-long-enough!!", alice)}`],
    [
      "an alg none token",
      async () => `Bearer ${b64url({ alg: "none", typ: "JWT" })}.${b64url({ ...alice, exp: Math.floor(Date.now() / 1000) + 3600 })}.`,
    ],
    [
      "an HS512 token signed with the right secret",
      async () =>
        `Bearer ${await new SignJWT({ email: alice.email, role: "admin" })
          .setProtectedHeader({ alg: "HS512" })
          .setSubject(alice.sub)
          .setExpirationTime("1h")
          .sign(new TextEncoder().encode(SECRET))}`,
    ],
    [
      "a token with an unknown role",
      async () =>
        `Bearer ${await new SignJWT({ email: alice.email, role: "root" })
          .setProtectedHeader({ alg: "HS256" })
          .setSubject(alice.sub)
          .setExpirationTime("1h")
          .sign(new TextEncoder().encode(SECRET))}`,
    ],
    [
      "a token without exp",
      async () =>
        `Bearer ${await new SignJWT({ email: alice.email, role: "customer" })
          .setProtectedHeader({ alg: "HS256" })
          .setSubject(alice.sub)
          .sign(new TextEncoder().encode(SECRET))}`,
    ],
  ];
  for (const [what, header] of invalid) {
    test(`when ${what} is sent, then 401 AUTH.INVALID_TOKEN even on a public route`, async () => {
      const res = await get("/things/public", await header());
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(await json(res)).toMatchObject({ status: 401, code: "AUTH.INVALID_TOKEN" });
    });
  }

  test("when a token has expired, then the detail says so", async () => {
    const res = await get("/things/mine", `Bearer ${await signToken(SECRET, alice, { expiresIn: "-1m" })}`);
    expect((await json(res)).detail).toBe("The bearer token has expired.");
  });

  test("when the Authorization header is broken, then health and docs still answer", async () => {
    expect((await get("/health/live", "Bearer garbage")).status).toBe(200);
    expect((await get("/docs/json", "Bearer garbage")).status).toBe(200);
  });
});

describe("scoping", () => {
  test("when a module router using the plugin is mounted in a plain root, then its routes see the principal and the root's do not", async () => {
    const root = new Elysia()
      .use(moduleRoutes)
      .get("/root", (context) => ({ hasPrincipal: "principal" in context }));
    const token = await signToken(SECRET, alice);
    const mine = await root.handle(new Request("http://localhost/things/mine", { headers: { authorization: `Bearer ${token}` } }));
    expect(await json(mine)).toEqual(alice);
    const own = await root.handle(new Request("http://localhost/root", { headers: { authorization: `Bearer ${token}` } }));
    expect(await json(own)).toEqual({ hasPrincipal: false });
  });
});

describe("Authenticator.verify", () => {
  test("when a token that was accepted (and remembered) expires, then it is refused from then on", async () => {
    const token = await signToken(SECRET, alice, { expiresIn: "2s" });
    expect(await authenticator.verify(token)).toEqual(alice);
    expect(await authenticator.verify(token)).toEqual(alice); // the remembered answer
    const refusal = await eventually(() => authenticator.verify(token).then(() => undefined, (error: unknown) => error), {
      timeoutMs: 5_000,
      what: "the token to be refused after its exp",
    });
    expect(refusal).toMatchObject({ code: "AUTH.INVALID_TOKEN" });
  });

  test("when a remembered token is checked by an authenticator with another secret, then it is refused", async () => {
    const token = await signToken(SECRET, alice, { expiresIn: "5m" });
    expect(await authenticator.verify(token)).toEqual(alice);
    await expect(createAuthenticator({ secret: "another-secret-of-at-least-32-characters" }).verify(token)).rejects.toMatchObject({ code: "AUTH.INVALID_TOKEN" });
  });

  test("when a token is signed by signToken, then verify returns exactly the principal", async () => {
    expect(await authenticator.verify(await signToken(SECRET, admin, { expiresIn: "5m" }))).toEqual(admin);
  });
});
