import { describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import pino from "pino";
import { requestContext } from "./request-context.ts";
import { createHttpApp } from "./server.ts";
import { createAuthenticator } from "./authenticator.ts";

// Response.json() is typed unknown; these tests inspect free-form problem documents.
const json = (res: Response): Promise<any> => res.json();

// A module router that needs the ids typed, as an outbox write would.
const moduleRoutes = new Elysia()
  .use(requestContext())
  .get("/echo", ({ requestId, correlationId }) => ({ requestId, correlationId }));

const app = createHttpApp({ logger: pino({ level: "silent" }), authenticator: createAuthenticator({ secret: "s".repeat(32) }), readiness: {} }).use(moduleRoutes);

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("request context", () => {
  test("when no ids are sent, then a UUIDv7 request id is generated, echoed, and used as correlation id", async () => {
    const res = await app.handle(new Request("http://localhost/echo"));
    const requestId = res.headers.get("x-request-id");
    expect(requestId).toMatch(UUID_V7);
    expect(res.headers.get("x-correlation-id")).toBe(requestId);
    // the handler sees the very ids the headers carry, although root and module both apply the plugin
    expect(await json(res)).toEqual({ requestId, correlationId: requestId });
  });

  test("when sane ids are sent, then both are kept and echoed", async () => {
    const requestId = `req-${crypto.randomUUID()}`;
    const correlationId = `flow_${Date.now()}.1`;
    const res = await app.handle(
      new Request("http://localhost/echo", { headers: { "x-request-id": requestId, "x-correlation-id": correlationId } }),
    );
    expect(res.headers.get("x-request-id")).toBe(requestId);
    expect(res.headers.get("x-correlation-id")).toBe(correlationId);
    expect(await json(res)).toEqual({ requestId, correlationId });
  });

  test("when only a request id is sent, then the correlation id defaults to it", async () => {
    const res = await app.handle(new Request("http://localhost/echo", { headers: { "x-request-id": "abc-123" } }));
    expect(res.headers.get("x-correlation-id")).toBe("abc-123");
  });

  test("when the sent ids are not sane tokens, then they are replaced", async () => {
    for (const bad of ["has space", "x".repeat(129), '{"json":1}', "a/b", "ünï"]) {
      const res = await app.handle(new Request("http://localhost/echo", { headers: { "x-request-id": bad, "x-correlation-id": bad } }));
      const requestId = res.headers.get("x-request-id");
      expect(requestId).toMatch(UUID_V7);
      expect(res.headers.get("x-correlation-id")).toBe(requestId);
    }
    const longest = "x".repeat(128);
    expect((await app.handle(new Request("http://localhost/echo", { headers: { "x-request-id": longest } }))).headers.get("x-request-id")).toBe(longest);
  });

  test("when a request fails, then the problem body and headers carry the same request id", async () => {
    const res = await app.handle(new Request("http://localhost/missing", { headers: { "x-correlation-id": "flow-9" } }));
    expect(res.status).toBe(404);
    const requestId = res.headers.get("x-request-id");
    expect(requestId).toMatch(UUID_V7);
    expect(res.headers.get("x-correlation-id")).toBe("flow-9");
    expect((await json(res)).requestId).toBe(requestId);
  });
});
