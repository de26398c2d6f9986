import { describe, expect, test } from "bun:test";
import { Elysia, t } from "elysia";
import pino from "pino";
import { MAX_JSON_DEPTH } from "./json-body.ts";
import { createHttpApp } from "./server.ts";
import { createAuthenticator } from "./authenticator.ts";

// Response.json() is typed unknown; these tests inspect free-form problem documents.
const json = (res: Response): Promise<any> => res.json();

const app = createHttpApp({ logger: pino({ level: "silent" }), authenticator: createAuthenticator({ secret: "s".repeat(32) }), readiness: {} }).use(
  new Elysia()
    .post("/optional", ({ body }) => ({ got: body ?? null }), { body: t.Optional(t.Object({ reason: t.Optional(t.String()) })) })
    .post("/any", ({ body }) => ({ got: body ?? null })),
);

function post(path: string, body: string, contentType = "application/json") {
  return app.handle(new Request(`http://localhost${path}`, { method: "POST", headers: { "content-type": contentType }, body }));
}

describe("JSON bodies", () => {
  test("when an optional body is not JSON, then 400 rather than a request that goes through as if no body was sent", async () => {
    const res = await post("/optional", "{garbage");
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ status: 400, title: "Malformed JSON body" });
  });

  test("when an optional JSON body is empty, then the route runs without a body", async () => {
    const res = await post("/optional", "");
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ got: null });
  });

  test(`when a body nests deeper than ${MAX_JSON_DEPTH} levels, then 400 at once; at ${MAX_JSON_DEPTH} it is parsed`, async () => {
    const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
    const started = performance.now();
    const deep = await post("/any", nested(400_000));
    expect(deep.status).toBe(400);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect((await post("/any", nested(MAX_JSON_DEPTH + 1))).status).toBe(400);
    expect((await post("/any", nested(MAX_JSON_DEPTH))).status).toBe(200);
  });

  test("when an object in the body has toString or valueOf keys, then they are dropped: an invalid value is a 422, not a 500", async () => {
    for (const body of ['{"reason":[[{"toString":null}]]}', '{"reason":{"valueOf":1}}']) {
      const res = await post("/optional", body);
      expect({ body, status: res.status }).toEqual({ body, status: 422 });
      expect(await json(res)).toMatchObject({ status: 422 });
    }
    const kept = await post("/any", '{"name":"toString","toString":null,"items":[{"valueOf":1,"sku":"valueOf"}]}');
    expect(await json(kept)).toEqual({ got: { name: "toString", items: [{ sku: "valueOf" }] } });
  });

  test("when the media type is a +json one, then it is parsed as JSON too", async () => {
    const res = await post("/any", '{"a":1}', "application/vnd.api+json");
    expect(await json(res)).toEqual({ got: { a: 1 } });
  });
});
