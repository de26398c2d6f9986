import { Elysia } from "elysia";
import { ForbiddenError, UnauthenticatedError } from "../errors.ts";
import type { Authenticator } from "./authenticator.ts";
import type { Principal } from "./principal.ts";

/** Name of the OpenAPI security scheme (declared by docs.ts); routes guarded by `auth` are documented with it. */
export const BEARER_SCHEME = "bearer";
export const bearerSecurity = [{ [BEARER_SCHEME]: [] as string[] }];

/** The caller of this request: null without an Authorization header; rejects when the header or token is bad. */
export async function principalOf(authenticator: Authenticator, header: string | null): Promise<Principal | null> {
  if (header === null) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  if (!match?.[1]) {
    throw new UnauthenticatedError("AUTH.INVALID_TOKEN", "The Authorization header must be 'Bearer <token>'.");
  }
  return authenticator.verify(match[1]);
}

/** Who may call a route: any caller with a valid token (`"signed-in"`), or administrators only (`"admin"`). */
export type Audience = "signed-in" | "admin";

/**
 * Derives `principal: Principal | null` for the routes of the instance that `.use()`s it (scoped: that router's
 * routes, and no further up), and gives them the `auth` guard: `{ auth: "signed-in" }` or `{ auth: "admin" }`.
 *
 * Named and seeded with the authenticator's seed (derived from its settings): the root app and every module router
 * apply it, and Elysia keeps one copy of its hooks per route (hooks of a named plugin carry a checksum of name +
 * seed, and a route merged into the root drops the hooks whose checksum the root already has), so a token is
 * verified once per request. An authenticator with other settings has another seed and is applied as well.
 */
export function authPlugin(authenticator: Authenticator) {
  return new Elysia({ name: "platform.auth", seed: authenticator.seed })
    .derive({ as: "scoped" }, async ({ request }) => ({
      principal: await principalOf(authenticator, request.headers.get("authorization")),
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
