import { Type as t } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { SignJWT, errors as joseErrors, jwtVerify } from "jose";
import { UnauthenticatedError } from "../errors.ts";
import { EMAIL_PATTERN, type Principal } from "./principal.ts";

// The shop's own tokens (`shop token`): HS256 with AUTH_SECRET, the role as a claim of its own.
const ClaimsSchema = t.Object({
  sub: t.String({ minLength: 1 }),
  email: t.String({ pattern: EMAIL_PATTERN }),
  role: t.Union([t.Literal("customer"), t.Literal("admin")]),
  exp: t.Number(),
});

/** The one algorithm a shop token may use. Pinned: never let the token's own header choose (`alg: none`, RS/HS confusion). */
export const SHOP_TOKEN_ALGORITHM = "HS256";

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
    .setProtectedHeader({ alg: SHOP_TOKEN_ALGORITHM, typ: "JWT" })
    .setSubject(principal.sub)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? "12h")
    .sign(keyOf(secret));
}

/**
 * Verifies a shop token's signature, algorithm, expiry and claim shapes; throws UnauthenticatedError
 * `AUTH.INVALID_TOKEN` otherwise. `validUntil`: the epoch second from which it is refused (its `exp`).
 */
export async function verifyShopToken(secret: string, token: string): Promise<{ principal: Principal; validUntil: number }> {
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, keyOf(secret), { algorithms: [SHOP_TOKEN_ALGORITHM], requiredClaims: ["exp", "sub"] }));
  } catch (error) {
    // jose's messages name header parameters and claims; the client only needs to know which of two things to do.
    const expired = error instanceof joseErrors.JWTExpired;
    throw new UnauthenticatedError("AUTH.INVALID_TOKEN", expired ? "The bearer token has expired." : "The bearer token is invalid.");
  }
  if (!Value.Check(ClaimsSchema, payload)) {
    throw new UnauthenticatedError("AUTH.INVALID_TOKEN", "The bearer token does not carry valid sub, email and role claims.");
  }
  return { principal: { sub: payload.sub, email: payload.email, role: payload.role }, validUntil: payload.exp };
}
