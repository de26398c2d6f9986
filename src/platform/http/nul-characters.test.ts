import { expect, test } from "bun:test";
import { Elysia, t } from "elysia";
import pino from "pino";
import { createHttpApp } from "./server.ts";
import { createAuthenticator } from "./authenticator.ts";

// Response.json() is typed unknown; these tests inspect free-form problem documents.
const json = (res: Response): Promise<any> => res.json();

const app = createHttpApp({ logger: pino({ level: "silent" }), authenticator: createAuthenticator({ secret: "s".repeat(32) }), readiness: {} }).use(
  new Elysia().post("/things", ({ body }) => body, { body: t.Object({ name: t.String(), tags: t.Array(t.String()) }) }),
);

test("when body strings or query values contain U+0000, then 422 names each field and the handler never runs", async () => {
  const res = await app.handle(
    new Request("http://localhost/things?q=a%00b", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "mug\u0000", tags: ["ok", "\u0000"] }),
    }),
  );
  expect(res.status).toBe(422);
  const problem = await json(res);
  expect(problem.code).toBe("REQUEST.NUL_CHARACTER");
  expect(problem.errors.map((e: { in: string; field: string }) => `${e.in} ${e.field}`).sort()).toEqual(["body /name", "body /tags/1", "query /q"]);
});

test("when the text is clean, then the handler runs", async () => {
  const res = await app.handle(
    new Request("http://localhost/things", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "mug", tags: [] }) }),
  );
  expect(res.status).toBe(200);
});

test("when health is asked with a U+0000 in its query, then it still answers: the check covers only routes with input", async () => {
  const health = await app.handle(new Request("http://localhost/health/live?x=%00"));
  expect(health.status).toBe(200);
});
