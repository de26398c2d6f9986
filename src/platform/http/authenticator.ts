import { createHash } from "node:crypto";
import { decodeProtectedHeader } from "jose";
import { IDP_TOKEN_ALGORITHMS, idpTokenVerifier, type IdpSettings } from "./idp-tokens.ts";
import type { Principal } from "./principal.ts";
import { verifyShopToken } from "./shop-tokens.ts";

/** Where bearer tokens may come from: the shop's own (AUTH_SECRET), and an identity provider when configured. */
export interface AuthSettings {
  secret: string;
  /** Unset: only the shop's own tokens are accepted. */
  idp?: IdpSettings;
}

/** Checks bearer tokens; one per process, built from the configuration, shared by the root app and every module. */
export interface Authenticator {
  /** Derived from the settings: authPlugin's seed, so every router applying the same settings verifies a token once. */
  readonly seed: string;
  /** The token's principal; throws UnauthenticatedError (401) or, for a provider's token, UnavailableError (503). */
  verify(token: string): Promise<Principal>;
}

// A client sends the same token with every request until it expires. Verifying it (key import, signature, JSON,
// claim checks) costs more than the rest of a cached read, so a token that verified is remembered until the moment
// it would be refused (its exp; for a provider's token also its maximum age). Bounded: the oldest entries go first.
// Tokens are immutable, so the answer cannot change before then (there is no revocation list to consult).
const VERIFIED_CAPACITY = 10_000;

export function createAuthenticator(settings: AuthSettings): Authenticator {
  const idp = settings.idp && idpTokenVerifier(settings.idp);
  const verified = new Map<string, { principal: Principal; validUntil: number }>();

  // The header's alg only says which source to ask; each source accepts its own algorithms alone (HS256 with the
  // secret, RS256/ES256 with the key set), so a header cannot make one kind of key check another kind of signature.
  const verifyNow = (token: string) =>
    idp && IDP_TOKEN_ALGORITHMS.includes(algorithmOf(token) ?? "") ? idp(token) : verifyShopToken(settings.secret, token);

  return {
    seed: createHash("sha256").update(JSON.stringify(settings)).digest("hex"),
    async verify(token) {
      const known = verified.get(token);
      if (known && known.validUntil > Date.now() / 1000) return known.principal;
      if (known) verified.delete(token);
      const fresh = await verifyNow(token);
      if (verified.size >= VERIFIED_CAPACITY) verified.delete(verified.keys().next().value!);
      verified.set(token, fresh);
      return fresh.principal;
    },
  };
}

/** The alg its header names; undefined for anything that is not a JWT (the shop's check then refuses it). */
function algorithmOf(token: string): string | undefined {
  try {
    return decodeProtectedHeader(token).alg;
  } catch {
    return undefined;
  }
}
