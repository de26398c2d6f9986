import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";

export type IdpAlgorithm = "RS256" | "ES256";

interface SigningKey {
  kid: string;
  alg: IdpAlgorithm;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** How the key set endpoint answers: its keys, never (the request hangs), a 500, or a body that is not JSON. */
export type JwksBehaviour = "serve" | "hang" | "fail" | "garbage";

export interface TestIdentityProvider {
  /** The key set's URL (AUTH_JWKS_URL). */
  jwksUrl: string;
  issuer: string;
  /** How many times the key set was asked for. */
  fetches(): number;
  behave(behaviour: JwksBehaviour): void;
  /** Adds a new key of `alg` to the set (the provider rotates) and returns its kid; `retire` drops the older keys of that alg. */
  rotate(alg: IdpAlgorithm, options?: { retire?: boolean }): Promise<string>;
  /** A token signed with the newest key of `alg` (or the key `kid`), claims as given plus iss, iat and exp unless overridden. */
  sign(claims: JWTPayload, options?: { alg?: IdpAlgorithm; kid?: string }): Promise<string>;
  /** The public JWK of the newest key of `alg` (what an attacker can read from the key set). */
  publicJwk(alg: IdpAlgorithm): JWK;
  close(): Promise<void>;
}

/**
 * A real HTTP identity provider for tests: serves a JSON Web Key Set (Bun.serve on a random port of 127.0.0.1) with
 * RS256 and ES256 keys made by jose, counts the fetches, and signs tokens with the private halves.
 */
export async function startIdentityProvider(): Promise<TestIdentityProvider> {
  const keys: SigningKey[] = [];
  let fetchCount = 0;
  let behaviour: JwksBehaviour = "serve";
  const hanging = new Set<() => void>();

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      if (new URL(request.url).pathname !== "/jwks.json") return new Response("not found", { status: 404 });
      fetchCount += 1;
      if (behaviour === "hang") return new Promise<Response>((resolve) => hanging.add(() => resolve(new Response("late", { status: 503 }))));
      if (behaviour === "fail") return new Response("upstream broke", { status: 500 });
      if (behaviour === "garbage") return new Response("<html>not a key set", { headers: { "content-type": "application/json" } });
      return Response.json({ keys: keys.map((key) => key.publicJwk) });
    },
  });
  const base = `http://127.0.0.1:${server.port}`;
  const issuer = `${base}/realms/shop`;

  const rotate = async (alg: IdpAlgorithm, options: { retire?: boolean } = {}) => {
    const { privateKey, publicKey } = await generateKeyPair(alg);
    const kid = `${alg}-${crypto.randomUUID()}`;
    if (options.retire) for (let i = keys.length - 1; i >= 0; i--) if (keys[i]!.alg === alg) keys.splice(i, 1);
    keys.push({ kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } });
    return kid;
  };
  const newest = (alg: IdpAlgorithm) => keys.findLast((key) => key.alg === alg)!;
  await rotate("RS256");
  await rotate("ES256");

  return {
    jwksUrl: `${base}/jwks.json`,
    issuer,
    fetches: () => fetchCount,
    behave(next) {
      behaviour = next;
    },
    rotate,
    async sign(claims, options = {}) {
      // An unknown kid is signed with the newest key but keeps its kid in the header (a token the set cannot match).
      const signer = keys.find((k) => k.kid === options.kid) ?? newest(options.alg ?? "RS256");
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: issuer, iat: now, exp: now + 300, ...claims })
        .setProtectedHeader({ alg: signer.alg, typ: "JWT", kid: options.kid ?? signer.kid })
        .sign(signer.privateKey);
    },
    publicJwk: (alg) => newest(alg).publicJwk,
    async close() {
      for (const release of hanging) release();
      await server.stop(true);
    },
  };
}
