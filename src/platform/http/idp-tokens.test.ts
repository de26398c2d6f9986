import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { base64url, SignJWT } from "jose";
import pino from "pino";
import { authPlugin } from "./auth.ts";
import { createAuthenticator, type Authenticator } from "./authenticator.ts";
import type { IdpSettings } from "./idp-tokens.ts";
import { createHttpApp } from "./server.ts";
import { signToken } from "./shop-tokens.ts";
import { eventually } from "../../test-support/eventually.ts";
import { startIdentityProvider, type TestIdentityProvider } from "../../test-support/identity-provider.ts";

// Tokens from an identity provider: a real key set served over HTTP, real RS256/ES256 signatures, checked through
// an HTTP app built the way the shop builds it (root app + a module router, both applying authPlugin).
const json = (res: Response): Promise<any> => res.json();
const SECRET = "idp-test-secret-of-at-least-32-characters";
const AUDIENCE = "shop-api";
const now = () => Math.floor(Date.now() / 1000);

let idp: TestIdentityProvider;
beforeAll(async () => {
  idp = await startIdentityProvider();
});
afterAll(async () => {
  await idp?.close();
});

function settings(overrides: Partial<IdpSettings> = {}): IdpSettings {
  return {
    jwksUrl: idp.jwksUrl,
    issuer: idp.issuer,
    audience: AUDIENCE,
    clockToleranceSeconds: 30,
    maxTokenAgeSeconds: 3600,
    roleClaim: "roles",
    adminRole: "shop-admin",
    jwksTimeoutMs: 500,
    jwksCooldownMs: 30_000,
    ...overrides,
  };
}

function appWith(authenticator: Authenticator) {
  const routes = new Elysia({ prefix: "/things" })
    .use(authPlugin(authenticator))
    .get("/public", ({ principal }) => ({ principal }))
    .get("/mine", ({ user }) => user, { auth: "signed-in" })
    .get("/admin", ({ user }) => user, { auth: "admin" });
  const app = createHttpApp({ logger: pino({ level: "silent" }), authenticator, readiness: {} }).use(routes);
  return (path: string, token?: string) =>
    app.handle(new Request(`http://localhost${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} }));
}

const customer = { sub: "kc-user-1", email: "carol@example.com", aud: AUDIENCE };

describe("identity-provider tokens", () => {
  let get: ReturnType<typeof appWith>;
  beforeAll(() => {
    get = appWith(createAuthenticator({ secret: SECRET, idp: settings() }));
  });

  for (const alg of ["RS256", "ES256"] as const) {
    test(`when a valid ${alg} token is sent, then the route sees {sub, email, role: customer}`, async () => {
      const res = await get("/things/mine", await idp.sign(customer, { alg }));
      expect(res.status).toBe(200);
      expect(await json(res)).toEqual({ sub: "kc-user-1", email: "carol@example.com", role: "customer" });
    });
  }

  test("when the role claim holds the admin role among others, then an admin route answers 200; without it 403", async () => {
    const admin = await get("/things/admin", await idp.sign({ ...customer, roles: ["viewer", "shop-admin"] }));
    expect(admin.status).toBe(200);
    expect(await json(admin)).toMatchObject({ role: "admin" });
    const plain = await get("/things/admin", await idp.sign({ ...customer, roles: ["viewer", "shop-admin-not"] }));
    expect(plain.status).toBe(403);
    expect(await json(plain)).toMatchObject({ code: "AUTH.ADMIN_ONLY" });
  });

  test("when the role claim is a single string, then it counts as that one role", async () => {
    expect(await json(await get("/things/mine", await idp.sign({ ...customer, roles: "shop-admin" })))).toMatchObject({ role: "admin" });
  });

  test("when the shop's own HS256 token is sent, then it still works, and the key set is not asked", async () => {
    const fresh = createAuthenticator({ secret: SECRET, idp: settings() });
    const before = idp.fetches();
    const res = await appWith(fresh)("/things/mine", await signToken(SECRET, { sub: "alice", email: "alice@example.com", role: "admin" }));
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ sub: "alice", email: "alice@example.com", role: "admin" });
    expect(idp.fetches()).toBe(before);
  });

  const refused: [string, () => Promise<string>][] = [
    ["another issuer", () => idp.sign({ ...customer, iss: "https://evil.example.com/" })],
    ["another audience", () => idp.sign({ ...customer, aud: "another-api" })],
    ["no audience", () => idp.sign({ sub: customer.sub, email: customer.email })],
    ["an exp beyond the clock tolerance", () => idp.sign({ ...customer, iat: now() - 120, exp: now() - 60 })],
    ["an iat older than the maximum token age", () => idp.sign({ ...customer, iat: now() - 3600 - 60, exp: now() + 300 })],
    ["an iat in the future beyond the tolerance", () => idp.sign({ ...customer, iat: now() + 120, exp: now() + 600 })],
    ["no email", () => idp.sign({ sub: customer.sub, aud: AUDIENCE })],
    ["a malformed email", () => idp.sign({ ...customer, email: "carol" })],
    ["no sub", () => idp.sign({ email: customer.email, aud: AUDIENCE })],
    ["no exp", () => idp.sign({ ...customer, exp: undefined })],
    ["a signature by a key the provider never published", async () => {
      const token = await idp.sign(customer);
      const [header, payload] = token.split(".");
      const other = await idp.sign({ ...customer, sub: "someone-else" });
      return `${header}.${payload}.${other.split(".")[2]}`;
    }],
    ["an RS256 header on an ES256 signature", async () => {
      const [, payload, signature] = (await idp.sign(customer, { alg: "ES256" })).split(".");
      const header = base64url.encode(JSON.stringify({ alg: "RS256", typ: "JWT", kid: idp.publicJwk("ES256").kid }));
      return `${header}.${payload}.${signature}`;
    }],
  ];
  for (const [what, token] of refused) {
    test(`when a provider token has ${what}, then 401 AUTH.INVALID_TOKEN`, async () => {
      const res = await get("/things/public", await token());
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(await json(res)).toMatchObject({ status: 401, code: "AUTH.INVALID_TOKEN" });
    });
  }

  test("when exp passed less than the clock tolerance ago, then the token is still accepted", async () => {
    const res = await get("/things/mine", await idp.sign({ ...customer, iat: now() - 60, exp: now() - 10 }));
    expect(res.status).toBe(200);
  });

  test("when exp passed beyond the tolerance, then the detail says the token has expired", async () => {
    const res = await get("/things/mine", await idp.sign({ ...customer, iat: now() - 120, exp: now() - 60 }));
    expect((await json(res)).detail).toBe("The bearer token has expired.");
  });
});

describe("algorithm confusion", () => {
  let get: ReturnType<typeof appWith>;
  beforeAll(() => {
    get = appWith(createAuthenticator({ secret: SECRET, idp: settings() }));
  });

  test("when an HS256 token is signed with the provider's public key as the HMAC secret, then 401", async () => {
    const jwk = idp.publicJwk("RS256");
    for (const secret of [JSON.stringify(jwk), String(jwk.n)]) {
      const forged = await new SignJWT({ ...customer, iss: idp.issuer, roles: ["shop-admin"], role: "admin" })
        .setProtectedHeader({ alg: "HS256", kid: jwk.kid })
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(new TextEncoder().encode(secret));
      const res = await get("/things/public", forged);
      expect(res.status).toBe(401);
      expect(await json(res)).toMatchObject({ code: "AUTH.INVALID_TOKEN" });
    }
  });

  test("when a token says alg none with the provider's kid, then 401", async () => {
    const header = base64url.encode(JSON.stringify({ alg: "none", kid: idp.publicJwk("RS256").kid }));
    const payload = base64url.encode(JSON.stringify({ ...customer, iss: idp.issuer, iat: now(), exp: now() + 300, roles: ["shop-admin"] }));
    expect((await get("/things/public", `${header}.${payload}.`)).status).toBe(401);
  });

  test("when the shop secret signs an HS256 token in provider shape (no role claim), then 401: the secret's tokens need their own role claim", async () => {
    const token = await new SignJWT({ ...customer, iss: idp.issuer, roles: ["shop-admin"] })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode(SECRET));
    expect((await get("/things/public", token)).status).toBe(401);
  });

  test("when no key set is configured, then an RS256 token is refused with 401 (never a 500)", async () => {
    const res = await appWith(createAuthenticator({ secret: SECRET }))("/things/public", await idp.sign(customer));
    expect(res.status).toBe(401);
    expect(await json(res)).toMatchObject({ code: "AUTH.INVALID_TOKEN" });
  });
});

describe("key rotation", () => {
  test("when the provider rotates to a new key, then its first token makes the shop fetch the key set once more, and it is accepted", async () => {
    const provider = await startIdentityProvider();
    try {
      // A short cooldown: jose refetches for an unknown kid only when the last fetch is older than the cooldown.
      const get = appWith(createAuthenticator({ secret: SECRET, idp: settings({ jwksUrl: provider.jwksUrl, issuer: provider.issuer, jwksCooldownMs: 1000 }) }));
      expect((await get("/things/mine", await provider.sign(customer))).status).toBe(200);
      expect(provider.fetches()).toBe(1);

      const kid = await provider.rotate("RS256", { retire: true });
      const rotated = await provider.sign(customer, { kid });
      // Refused while the cooldown since the last fetch runs, then accepted after exactly one refetch.
      await eventually(async () => (await get("/things/mine", rotated)).status, { accept: (status) => status === 200, timeoutMs: 10_000, what: "the rotated key's token to be accepted" });
      expect(provider.fetches()).toBe(2);
      expect((await get("/things/mine", rotated)).status).toBe(200);
      expect(provider.fetches()).toBe(2);
    } finally {
      await provider.close();
    }
  });

  test("when tokens name a kid the provider does not have, then 401, with at most one refetch within the cooldown", async () => {
    const provider = await startIdentityProvider();
    try {
      const get = appWith(createAuthenticator({ secret: SECRET, idp: settings({ jwksUrl: provider.jwksUrl, issuer: provider.issuer }) }));
      for (let i = 0; i < 5; i++) {
        const res = await get("/things/mine", await provider.sign(customer, { kid: `unknown-${i}` }));
        expect(res.status).toBe(401);
        expect(await json(res)).toMatchObject({ code: "AUTH.INVALID_TOKEN" });
      }
      expect(provider.fetches()).toBeGreaterThanOrEqual(1);
      expect(provider.fetches()).toBeLessThanOrEqual(2);
    } finally {
      await provider.close();
    }
  });
});

describe("an unreachable, slow or broken key set", () => {
  const expectKeysUnavailable = async (res: Response) => {
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.headers.get("retry-after")).toBe("5");
    expect(await json(res)).toMatchObject({ status: 503, code: "AUTH.KEYS_UNAVAILABLE" });
  };

  test("when nothing listens at AUTH_JWKS_URL, then a provider token gets 503 AUTH.KEYS_UNAVAILABLE and a shop token still works", async () => {
    const gone = await startIdentityProvider();
    const token = await gone.sign(customer);
    const jwksUrl = gone.jwksUrl;
    await gone.close();
    const get = appWith(createAuthenticator({ secret: SECRET, idp: settings({ jwksUrl, issuer: gone.issuer }) }));
    await expectKeysUnavailable(await get("/things/mine", token));
    const shopToken = await signToken(SECRET, { sub: "alice", email: "alice@example.com", role: "customer" });
    expect((await get("/things/mine", shopToken)).status).toBe(200);
  });

  test("when the key set endpoint hangs, then 503 within the fetch timeout", async () => {
    const provider = await startIdentityProvider();
    try {
      provider.behave("hang");
      const get = appWith(createAuthenticator({ secret: SECRET, idp: settings({ jwksUrl: provider.jwksUrl, issuer: provider.issuer, jwksTimeoutMs: 300 }) }));
      const started = performance.now();
      await expectKeysUnavailable(await get("/things/mine", await provider.sign(customer)));
      expect(performance.now() - started).toBeLessThan(2_000);
    } finally {
      await provider.close();
    }
  });

  for (const behaviour of ["fail", "garbage"] as const) {
    test(`when the key set endpoint answers ${behaviour === "fail" ? "500" : "something that is not JSON"}, then 503; once it serves keys again, 200`, async () => {
      const provider = await startIdentityProvider();
      try {
        provider.behave(behaviour);
        const get = appWith(createAuthenticator({ secret: SECRET, idp: settings({ jwksUrl: provider.jwksUrl, issuer: provider.issuer }) }));
        const token = await provider.sign(customer);
        await expectKeysUnavailable(await get("/things/mine", token));
        provider.behave("serve");
        expect((await get("/things/mine", token)).status).toBe(200);
      } finally {
        await provider.close();
      }
    });
  }
});

describe("the verified-token cache", () => {
  test("when a remembered provider token passes its maximum age, then it is refused from then on, though its exp is far off", async () => {
    const authenticator = createAuthenticator({ secret: SECRET, idp: settings({ maxTokenAgeSeconds: 1, clockToleranceSeconds: 0 }) });
    const token = await idp.sign({ ...customer, iat: now(), exp: now() + 3600 });
    expect(await authenticator.verify(token)).toMatchObject({ sub: customer.sub });
    const fetches = idp.fetches();
    expect(await authenticator.verify(token)).toMatchObject({ sub: customer.sub }); // remembered: no new fetch, no new check
    expect(idp.fetches()).toBe(fetches);
    const refusal = await eventually(() => authenticator.verify(token).then(() => undefined, (error: unknown) => error), {
      timeoutMs: 5_000,
      what: "the token to be refused after its maximum age",
    });
    expect(refusal).toMatchObject({ code: "AUTH.INVALID_TOKEN" });
  });
});

describe("role claim paths", () => {
  test("when AUTH_ROLE_CLAIM is a dotted path (Keycloak's realm_access.roles), then the roles are read from inside that object", async () => {
    const get = appWith(createAuthenticator({ secret: SECRET, idp: settings({ roleClaim: "realm_access.roles" }) }));
    expect((await get("/things/admin", await idp.sign({ ...customer, realm_access: { roles: ["shop-admin"] } }))).status).toBe(200);
    expect((await get("/things/admin", await idp.sign({ ...customer, realm_access: { roles: ["offline_access"] } }))).status).toBe(403);
    expect((await get("/things/admin", await idp.sign({ ...customer, roles: ["shop-admin"] }))).status).toBe(403);
  });

  test("when the claim's name itself holds dots (an Auth0 namespaced claim), then that top-level claim is read", async () => {
    const claim = "https://shop.example.com/roles";
    const get = appWith(createAuthenticator({ secret: SECRET, idp: settings({ roleClaim: claim }) }));
    expect((await get("/things/admin", await idp.sign({ ...customer, [claim]: ["shop-admin"] }))).status).toBe(200);
  });
});
