import { Type as t } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from "jose";
import { UnauthenticatedError, UnavailableError } from "../errors.ts";
import { EMAIL_PATTERN, type Principal, type Role } from "./principal.ts";

/** Tokens from an identity provider, checked against its JSON Web Key Set (AUTH_JWKS_URL and the AUTH_* around it). */
export interface IdpSettings {
  jwksUrl: string;
  /** `iss` must equal it when set. */
  issuer?: string;
  /** `aud` must contain it when set. */
  audience?: string;
  /** Leeway for `exp`, `nbf` and `iat` against this machine's clock. */
  clockToleranceSeconds: number;
  /** A token issued (`iat`) longer ago than this is refused, whatever its `exp`. */
  maxTokenAgeSeconds: number;
  /** The claim holding the caller's roles (a string or an array of strings); a dotted path reaches into objects. */
  roleClaim: string;
  /** The role among them that makes the caller an admin; anyone else is a customer. */
  adminRole: string;
  /** Longest a fetch of the key set may take, body included. */
  jwksTimeoutMs: number;
  /** Least time between two fetches of the key set caused by tokens whose `kid` is unknown. */
  jwksCooldownMs: number;
}

/** The algorithms an identity provider's token may use. Pinned: the token's header never picks HS256 or `none` here. */
export const IDP_TOKEN_ALGORITHMS = ["RS256", "ES256"];

// The keys are fetched again when older than this (jose's default), so a key the provider withdrew stops being trusted.
const JWKS_MAX_AGE_MS = 10 * 60_000;

const ClaimsSchema = t.Object({
  sub: t.String({ minLength: 1 }),
  email: t.String({ pattern: EMAIL_PATTERN }),
  exp: t.Number(),
  iat: t.Number(),
});

/** The key set could not be fetched: the provider is down, slow or answers something that is not a key set. */
class KeysUnavailable extends Error {}

/**
 * A verifier of the provider's tokens: signature by a key of its key set (fetched on first use, again on an unknown
 * `kid` at most once per cooldown), algorithm, `exp`, `nbf`, `iat` age, issuer, audience, `sub` and `email`.
 * Throws UnauthenticatedError `AUTH.INVALID_TOKEN` (401) for a bad token, UnavailableError `AUTH.KEYS_UNAVAILABLE`
 * (503) when the keys to check it cannot be fetched. `validUntil`: the epoch second from which it is refused.
 */
export function idpTokenVerifier(settings: IdpSettings): (token: string) => Promise<{ principal: Principal; validUntil: number }> {
  const jwks = createRemoteJWKSet(new URL(settings.jwksUrl), {
    timeoutDuration: settings.jwksTimeoutMs,
    cooldownDuration: settings.jwksCooldownMs,
    cacheMaxAge: JWKS_MAX_AGE_MS,
  });
  const keyFor: JWTVerifyGetKey = async (header, token) => {
    try {
      return await jwks(header, token);
    } catch (error) {
      // No key for its kid (after the refetch jose allows) is the token's fault; anything else is the fetch's.
      if (error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys) throw error;
      throw new KeysUnavailable("the key set could not be fetched", { cause: error });
    }
  };
  const tolerance = settings.clockToleranceSeconds;

  return async (token) => {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, keyFor, {
        algorithms: IDP_TOKEN_ALGORITHMS,
        issuer: settings.issuer,
        audience: settings.audience,
        clockTolerance: tolerance,
        maxTokenAge: settings.maxTokenAgeSeconds,
        requiredClaims: ["exp", "sub"],
      }));
    } catch (error) {
      if (error instanceof KeysUnavailable) {
        const unavailable = new UnavailableError("AUTH.KEYS_UNAVAILABLE", "The identity provider's signing keys cannot be fetched just now; retry shortly.");
        // For the log line of the 503 (never in the answer): what the fetch ran into.
        unavailable.cause = error.cause;
        throw unavailable;
      }
      const expired = error instanceof joseErrors.JWTExpired;
      throw new UnauthenticatedError("AUTH.INVALID_TOKEN", expired ? "The bearer token has expired." : "The bearer token is invalid.");
    }
    if (!Value.Check(ClaimsSchema, payload)) {
      throw new UnauthenticatedError("AUTH.INVALID_TOKEN", "The bearer token does not carry valid sub and email claims.");
    }
    const principal = { sub: payload.sub, email: payload.email, role: roleOf(payload, settings) };
    // Refused from whichever comes first: expiry or the maximum age, each with the same leeway jose gives.
    return { principal, validUntil: Math.min(payload.exp, payload.iat + settings.maxTokenAgeSeconds) + tolerance };
  };
}

/** admin when the role claim holds the admin role (as the string itself or in an array), else customer. */
function roleOf(payload: Record<string, unknown>, settings: Pick<IdpSettings, "roleClaim" | "adminRole">): Role {
  const value = claimAt(payload, settings.roleClaim);
  const roles = typeof value === "string" ? [value] : Array.isArray(value) ? value : [];
  return roles.includes(settings.adminRole) ? "admin" : "customer";
}

/**
 * The claim named `path`: a top-level claim of that exact name first (Auth0's namespaced claims are URLs, dots and
 * all), else the dotted path into nested objects (Keycloak's `realm_access.roles`).
 */
function claimAt(payload: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let value: unknown = payload;
  for (const key of path.split(".")) {
    if (typeof value !== "object" || value === null || Array.isArray(value) || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
