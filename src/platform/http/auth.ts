import { Elysia } from "elysia";
import { Type as t, type Static } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { SignJWT, errors as joseErrors, jwtVerify } from "jose";
import { ForbiddenError, UnauthenticatedError } from "../errors.ts";

const ClaimsSchema = t.Object({
  sub: t.String({ minLength: 1 }),
  email: t.String({ pattern: "^[^@\\s]+@[^@\\s]+$" }),
  role: t.Union([t.Literal("customer"), t.Literal("admin")]),
  exp: t.Number(),
});

export type Role = Static<typeof ClaimsSchema>["role"];

/** Who is calling, as proven by a valid bearer token. */
export type Principal = { sub: string; email: string; role: Role };

/** Name of the OpenAPI security scheme (declared by docs.ts); routes guarded by `auth` are documented with it. */
export const BEARER_SCHEME = "bearer";
export const bearerSecurity = [{ [BEARER_SCHEME]: [] as string[] }];

// Pinned: never let the token's own header choose the algorithm (`alg: none`, RS/HS confusion).
const ALGORITHMS = ["HS256"];

function keyOf(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

/** Mints an HS256 JWT for `principal`, valid for `expiresIn` (a jose time span such as "12h", "15m"). */
export async function signToken(
  secret: string,
  principal: Principal,
  options: { expiresIn?: string } = {},
): Promise<string> {
  return new SignJWT({ email: principal.email, role: principal.role })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(principal.sub)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? "12h")
    .sign(keyOf(secret));
}

// A client sends the same token with every request until it expires. Verifying it (key import, HMAC, JSON,
// claim checks) costs more than the rest of a cached read, so a token that verified is remembered, with its
// expiry, per secret. Bounded: the oldest entries go first. Tokens are immutable, so the answer cannot change
// before `exp` (there is no revocation list to consult).
const VERIFIED_CAPACITY = 10_000;
const verified = new Map<string, { principal: Principal; exp: number }>();

/** Verifies signature, algorithm, expiry and claim shapes; throws UnauthenticatedError `AUTH.INVALID_TOKEN` otherwise. */
export async function verifyToken(secret: string, token: string): Promise<Principal> {
  const cacheKey = `${secret}\u0000${token}`;
  const known = verified.get(cacheKey);
  if (known && known.exp > Date.now() / 1000) return known.principal;
  if (known) verified.delete(cacheKey);
  const { exp, ...principal } = await verifyTokenNow(secret, token);
  if (verified.size >= VERIFIED_CAPACITY) verified.delete(verified.keys().next().value!);
  verified.set(cacheKey, { principal, exp });
  return principal;
}

async function verifyTokenNow(secret: string, token: string): Promise<Principal & { exp: number }> {
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, keyOf(secret), { algorithms: ALGORITHMS, requiredClaims: ["exp", "sub"] }));
  } catch (error) {
    // jose's messages name header parameters and claims; the client only needs to know which of two things to do.
    const expired = error instanceof joseErrors.JWTExpired;
    throw new UnauthenticatedError("AUTH.INVALID_TOKEN", expired ? "The bearer token has expired." : "The bearer token is invalid.");
  }
  if (!Value.Check(ClaimsSchema, payload)) {
    throw new UnauthenticatedError("AUTH.INVALID_TOKEN", "The bearer token does not carry valid sub, email and role claims.");
  }
  return { sub: payload.sub, email: payload.email, role: payload.role, exp: payload.exp };
}

/** The caller of this request: null without an Authorization header; rejects when the header or token is bad. */
export async function principalOf(secret: string, header: string | null): Promise<Principal | null> {
  if (header === null) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  if (!match?.[1]) {
    throw new UnauthenticatedError("AUTH.INVALID_TOKEN", "The Authorization header must be 'Bearer <token>'.");
  }
  return verifyToken(secret, match[1]);
}

/** Who may call a route: any caller with a valid token (`"signed-in"`), or administrators only (`"admin"`). */
export type Audience = "signed-in" | "admin";

/**
 * Derives `principal: Principal | null` for the routes of the instance that `.use()`s it (scoped: that router's
 * routes, and no further up), and gives them the `auth` guard: `{ auth: "signed-in" }` or `{ auth: "admin" }`.
 *
 * Named and seeded with the secret: the root app and every module router apply it, and Elysia keeps one copy
 * of its hooks per route (hooks of a named plugin carry a checksum of name + seed, and a route merged into the
 * root drops the hooks whose checksum the root already has), so a token is verified once per request. A copy with
 * another secret has another seed and is applied as well.
 */
export function authPlugin(secret: string) {
  return new Elysia({ name: "platform.auth", seed: secret })
    .derive({ as: "scoped" }, async ({ request }) => ({
      principal: await principalOf(secret, request.headers.get("authorization")),
    }))
    .macro({
      /**
       * Refuses the caller before validation (in `transform`: someone who may not use the route learns nothing
       * from it, not even which fields it wants): 401 without a token, 403 for a customer on an admin route.
       * Documents the route as needing a bearer token.
       */
      auth: (audience: Audience) => ({
        transform({ principal }) {
          // Typed optional here (a macro may be used where the derive is not); the plugin always derives it first.
          if (audience === "admin") requireAdmin(principal ?? null);
          else requireUser(principal ?? null);
        },
        // The handler's non-null caller; the check above already refused everyone else.
        resolve: ({ principal }) => ({ user: requireUser(principal ?? null) }),
        detail: { security: bearerSecurity },
      }),
    });
}

/** The principal, or UnauthenticatedError `AUTH.REQUIRED` (answered 401 with `WWW-Authenticate: Bearer`). */
export function requireUser(principal: Principal | null): Principal {
  if (!principal) throw new UnauthenticatedError("AUTH.REQUIRED", "This endpoint requires a bearer token.");
  return principal;
}

/** An admin principal: 401 when there is none, ForbiddenError `AUTH.ADMIN_ONLY` (403) for a customer. */
export function requireAdmin(principal: Principal | null): Principal {
  const user = requireUser(principal);
  if (user.role !== "admin") throw new ForbiddenError("AUTH.ADMIN_ONLY", "This endpoint is for administrators only.");
  return user;
}
