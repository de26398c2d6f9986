import { expect, test } from "bun:test";
import { Elysia, t } from "elysia";
import pino from "pino";
import { bearerSecurity } from "./auth.ts";
import { createHttpApp } from "./server.ts";
import { createAuthenticator } from "./authenticator.ts";

// Response.json() is typed unknown; these tests inspect free-form problem documents.
const json = (res: Response): Promise<any> => res.json();

test("when a module router is used after the docs, then /docs/json documents its routes and the bearer scheme", async () => {
  const moduleRoutes = new Elysia({ prefix: "/widgets" }).post("/:id", ({ params }) => params, {
    params: t.Object({ id: t.String() }),
    body: t.Object({ name: t.String() }),
    detail: { summary: "Create a widget", security: bearerSecurity },
  });
  const app = createHttpApp({ logger: pino({ level: "silent" }), authenticator: createAuthenticator({ secret: "s".repeat(32) }), readiness: {}, version: "1.2.3" }).use(
    moduleRoutes,
  );

  const res = await app.handle(new Request("http://localhost/docs/json"));
  expect(res.status).toBe(200);
  const doc = await json(res);
  expect(doc.openapi).toStartWith("3.");
  expect(doc.info).toMatchObject({ title: "Shop API", version: "1.2.3" });
  expect(doc.components.securitySchemes.bearer).toEqual({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
  expect(doc.paths["/widgets/{id}"].post.summary).toBe("Create a widget");
  expect(doc.paths["/widgets/{id}"].post.security).toEqual([{ bearer: [] }]);
  expect(doc.paths["/health/ready"]).toBeDefined();

  const ui = await app.handle(new Request("http://localhost/docs"));
  expect(ui.status).toBe(200);
  expect(ui.headers.get("content-type")).toContain("text/html");
});
