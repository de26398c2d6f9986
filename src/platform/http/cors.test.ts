import { afterEach, describe, expect, test } from "bun:test";
import { Elysia, type AnyElysia } from "elysia";
import pino from "pino";
import { loadConfig } from "../../config.ts";
import { createHttpApp } from "./server.ts";
import { createAuthenticator } from "./authenticator.ts";

// The CORS settings as loadConfig reads them, on a root app listening on a real socket.
const running: AnyElysia[] = [];
afterEach(async () => {
  for (const app of running.splice(0)) await app.server?.stop(true);
});

function serve(env: Record<string, string>): string {
  const config = loadConfig({ NODE_ENV: "test", ...env });
  const app = createHttpApp({ logger: pino({ level: "silent" }), authenticator: createAuthenticator({ secret: "s".repeat(32) }), readiness: {}, cors: config.cors }).use(
    new Elysia().get("/things", () => ({ ok: true })),
  );
  running.push(app);
  app.listen({ port: 0, hostname: "127.0.0.1" });
  return `http://127.0.0.1:${app.server!.port}`;
}

const STOREFRONT = "https://shop.example.com";
const preflight = (baseUrl: string, origin: string) =>
  fetch(`${baseUrl}/things`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "GET", "access-control-request-headers": "authorization" } });
const corsHeadersOf = (res: Response) => [...res.headers.keys()].filter((name) => name.startsWith("access-control-"));

describe("CORS settings", () => {
  test("when CORS_ORIGINS is not set, then no origin gets CORS headers and OPTIONS is not answered as a preflight", async () => {
    const baseUrl = serve({});
    const options = await preflight(baseUrl, STOREFRONT);
    expect(options.status).toBe(404);
    expect(corsHeadersOf(options)).toEqual([]);
    const get = await fetch(`${baseUrl}/things`, { headers: { origin: STOREFRONT } });
    expect(get.status).toBe(200);
    expect(corsHeadersOf(get)).toEqual([]);
  });

  test("when CORS_CREDENTIALS=true, then a listed origin is allowed with credentials, on the preflight and on the answer; an unlisted one is not", async () => {
    const baseUrl = serve({ CORS_ORIGINS: STOREFRONT, CORS_CREDENTIALS: "true", CORS_MAX_AGE: "60" });
    const options = await preflight(baseUrl, STOREFRONT);
    expect(options.status).toBe(204);
    expect(options.headers.get("access-control-allow-origin")).toBe(STOREFRONT);
    expect(options.headers.get("access-control-allow-credentials")).toBe("true");
    expect(options.headers.get("access-control-max-age")).toBe("60");
    const get = await fetch(`${baseUrl}/things`, { headers: { origin: STOREFRONT } });
    expect(get.headers.get("access-control-allow-origin")).toBe(STOREFRONT);
    expect(get.headers.get("access-control-allow-credentials")).toBe("true");

    const stranger = await fetch(`${baseUrl}/things`, { headers: { origin: "https://evil.example.com" } });
    expect(corsHeadersOf(stranger)).toEqual([]);
  });

  test("when CORS_ORIGINS=*, then every origin is allowed with the literal *, without credentials", async () => {
    const baseUrl = serve({ CORS_ORIGINS: "*" });
    const options = await preflight(baseUrl, "https://anyone.example.org");
    expect(options.status).toBe(204);
    expect(options.headers.get("access-control-allow-origin")).toBe("*");
    expect(options.headers.get("access-control-allow-headers")).toContain("Authorization");
    expect(options.headers.get("access-control-allow-credentials")).toBeNull();
  });
});
