import { describe, expect, test } from "bun:test";
import { Elysia, t } from "elysia";
import pino from "pino";
import {
  ConflictError,
  DomainError,
  RetryLaterError,
  ForbiddenError,
  NotFoundError,
  UnavailableError,
  UnauthenticatedError,
  InvalidError,
} from "../errors.ts";
import { errorToProblem, PROBLEM_CONTENT_TYPE } from "./problem.ts";
import { createHttpApp } from "./server.ts";
import { createAuthenticator } from "./authenticator.ts";

// Response.json() is typed unknown; these tests inspect free-form problem documents.
const json = (res: Response): Promise<any> => res.json();

function appWith(routes: Elysia<any, any, any, any, any, any, any>) {
  const app = createHttpApp({ logger: pino({ level: "silent" }), authenticator: createAuthenticator({ secret: "s".repeat(32) }), readiness: {} });
  return app.use(routes);
}

function post(path: string, body: string, contentType = "application/json") {
  return new Request(`http://localhost${path}`, { method: "POST", headers: { "content-type": contentType }, body });
}

const OrderBody = t.Object({
  items: t.Array(t.Object({ sku: t.String({ minLength: 1 }), quantity: t.Integer({ minimum: 1 }) }), { minItems: 1 }),
});

describe("validation", () => {
  const app = appWith(new Elysia().post("/orders", ({ body }) => body, { body: OrderBody }));

  test("when several fields are bad, then 422 problem+json names each of them", async () => {
    const res = await app.handle(
      post("/orders", JSON.stringify({ items: [{ sku: "", quantity: 0 }, { sku: "B", quantity: "many" }, { quantity: 2 }] })),
    );
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toBe(PROBLEM_CONTENT_TYPE);
    const body = await json(res);
    expect(body).toMatchObject({ status: 422, title: "Request validation failed", instance: "/orders" });
    expect(typeof body.requestId).toBe("string");
    const fields = body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(["/items/0/sku", "/items/0/quantity", "/items/1/quantity", "/items/2/sku"]);
    for (const error of body.errors) {
      expect(error.in).toBe("body");
      expect(error.message).not.toBe("Expected union value");
    }
    expect(body.errors.find((e: { field: string }) => e.field === "/items/2/sku").message).toBe("Required property is missing");
  });

  test("when a query parameter is bad, then 422 names it as a query field", async () => {
    const app = appWith(new Elysia().get("/list", ({ query }) => query, { query: t.Object({ limit: t.Integer() }) }));
    const res = await app.handle(new Request("http://localhost/list?limit=ten"));
    expect(res.status).toBe(422);
    expect((await json(res)).errors).toEqual([{ in: "query", field: "/limit", message: "Expected integer" }]);
  });

  // Elysia 1.4 checks a bound of t.Integer/t.Numeric only while decoding a string, and rethrows that error
  // without its field; the root error handler finds the field again from the route's schemas.
  test("when a decoded query number breaks its bound, then 422 names it as a query field", async () => {
    const app = appWith(new Elysia().get("/list", ({ query }) => query, { query: t.Object({ limit: t.Integer({ maximum: 100 }) }) }));
    const res = await app.handle(new Request("http://localhost/list?limit=500"));
    expect(res.status).toBe(422);
    const body = await json(res);
    expect(body.errors).toEqual([{ in: "query", field: "/limit", message: "Expected integer to be less or equal to 100" }]);
    expect(body.detail).toBe("The request query has invalid fields.");
  });

  test("when a number sent as a string in the body breaks its bound, then 422 names the body field", async () => {
    const res = await app.handle(post("/orders", JSON.stringify({ items: [{ sku: "A", quantity: 1 }, { sku: "B", quantity: "0" }] })));
    expect(res.status).toBe(422);
    expect((await json(res)).errors).toEqual([{ in: "body", field: "/items/1/quantity", message: "Expected integer to be greater or equal to 1" }]);
  });

  test("when the body is not valid JSON, then 400 Malformed JSON body", async () => {
    const res = await app.handle(post("/orders", '{"items": [ '));
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe(PROBLEM_CONTENT_TYPE);
    expect(await json(res)).toMatchObject({ status: 400, title: "Malformed JSON body", instance: "/orders" });
  });

  test("when a handler answers against its own response schema, then 500, not 422", async () => {
    const app = appWith(new Elysia().get("/bad", () => ({ n: "x" }) as never, { response: t.Object({ n: t.Number() }) }));
    const res = await app.handle(new Request("http://localhost/bad"));
    expect(res.status).toBe(500);
    expect(await json(res)).not.toHaveProperty("errors");
  });
});

describe("routing", () => {
  test("when no route matches, then 404 problem+json", async () => {
    const res = await appWith(new Elysia()).handle(new Request("http://localhost/nowhere?x=1"));
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe(PROBLEM_CONTENT_TYPE);
    expect(await json(res)).toMatchObject({ status: 404, title: "Not Found", instance: "/nowhere" });
  });
});

describe("domain errors", () => {
  const cases = [
    [NotFoundError, 404],
    [ConflictError, 409],
    [InvalidError, 422],
    [ForbiddenError, 403],
    [UnauthenticatedError, 401],
    [UnavailableError, 503],
  ] as const;
  for (const [Kind, status] of cases) {
    test(`when a handler throws ${Kind.name}, then ${status} with its code, message and details`, async () => {
      const app = appWith(
        new Elysia().get("/x", () => {
          throw new Kind("TEST.SOMETHING", "it went that way", { sku: "A-1", status: 999 });
        }),
      );
      const res = await app.handle(new Request("http://localhost/x"));
      expect(res.status).toBe(status);
      expect(res.headers.get("content-type")).toBe(PROBLEM_CONTENT_TYPE);
      const body = await json(res);
      // details are extensions but never overwrite the standard members
      expect(body).toMatchObject({ status, code: "TEST.SOMETHING", detail: "it went that way", sku: "A-1", instance: "/x" });
      expect(typeof body.requestId).toBe("string");
    });
  }

  test("when a 401 is answered, then it carries WWW-Authenticate: Bearer", () => {
    const res = errorToProblem(new UnauthenticatedError("AUTH.REQUIRED", "log in"), { requestId: "r1" });
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
  });

  test("when a UnavailableError is answered, then it carries Retry-After", () => {
    const res = errorToProblem(new UnavailableError("MAIL.DOWN", "later"), { requestId: "r1" });
    expect(res.headers.get("retry-after")).toBe("5");
  });

  test("when a module defines its own DomainError subclass, then it keeps the status of its parent", () => {
    class OrderNotCancellable extends ConflictError {}
    expect(errorToProblem(new OrderNotCancellable("ORDERS.NOT_CANCELLABLE", "shipped"), { requestId: "r" }).status).toBe(409);
  });

  test("when a DomainError is built from its kind alone, then the kind decides the status", () => {
    expect(errorToProblem(new DomainError("invalid", "X.Y", "no"), { requestId: "r" }).status).toBe(422);
    expect(errorToProblem(new DomainError("not-found", "X.Y", "no"), { requestId: "r" }).status).toBe(404);
    expect(errorToProblem(new DomainError("conflict", "X.Y", "no"), { requestId: "r" }).status).toBe(409);
  });

  test("when a handler's RetryLaterError reaches the edge, then it is a plain 500 that says nothing of it", async () => {
    const res = errorToProblem(new RetryLaterError("ORDERS.CONCURRENT_UPDATE", "changed meanwhile"), { requestId: "r" });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ type: "about:blank", title: "Internal Server Error", status: 500, requestId: "r" });
  });
});

describe("unexpected errors", () => {
  test("when a handler throws a plain Error, then 500 with a generic body and only the request id", async () => {
    const app = appWith(
      new Elysia().get("/boom", () => {
        throw new Error("secret internal detail");
      }),
    );
    const res = await app.handle(new Request("http://localhost/boom", { headers: { "x-request-id": "req-123" } }));
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain("secret internal detail");
    expect(text).not.toContain("at ");
    expect(JSON.parse(text)).toEqual({ type: "about:blank", title: "Internal Server Error", status: 500, instance: "/boom", requestId: "req-123" });
  });

  test("when an error message holds SQL and parameters, then none of it is echoed", async () => {
    const app = appWith(
      new Elysia().get("/q", () => {
        const cause = Object.assign(new Error('duplicate key value violates unique constraint "orders_pkey"'), { code: "23505" });
        throw Object.assign(new Error('Failed query: insert into "orders"."orders" ("id") values ($1)\nparams: alice@example.com'), {
          name: "DrizzleQueryError",
          cause,
        });
      }),
    );
    const res = await app.handle(new Request("http://localhost/q"));
    expect(res.status).toBe(500);
    const text = await res.text();
    for (const leak of ["insert", "orders_pkey", "alice@example.com", "params", "23505"]) expect(text).not.toContain(leak);
  });

  test("when a drizzle query fails because Postgres refused the connection, then 503 with Retry-After", async () => {
    const app = appWith(
      new Elysia().get("/db", () => {
        const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
        throw Object.assign(new Error('Failed query: select * from "inventory"."products"'), { name: "DrizzleQueryError", cause });
      }),
    );
    const res = await app.handle(new Request("http://localhost/db"));
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    const text = await res.text();
    expect(text).not.toContain("select");
    expect(JSON.parse(text)).toMatchObject({ status: 503, title: "Service temporarily unavailable" });
  });

  test("when Postgres reports a connection-class SQLSTATE or shutdown, then 503", () => {
    for (const code of ["08006", "08001", "57P01", "57P03", "CONNECTION_CLOSED", "CONNECT_TIMEOUT"]) {
      const error = new Error("x", { cause: Object.assign(new Error("y"), { code }) });
      expect(errorToProblem(error, { requestId: "r" }).status).toBe(503);
    }
    expect(errorToProblem(Object.assign(new Error("x"), { code: "23505" }), { requestId: "r" }).status).toBe(500);
  });
});
