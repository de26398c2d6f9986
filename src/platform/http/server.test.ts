import { afterEach, describe, expect, test } from "bun:test";
import { Elysia, t, type AnyElysia } from "elysia";
import pino from "pino";
import { NotFoundError } from "../errors.ts";
import { createHttpApp, drainHttp, MAX_BODY_BYTES } from "./server.ts";
import { createAuthenticator } from "./authenticator.ts";

// Response.json() is typed unknown; these tests inspect free-form problem documents.
const json = (res: Response): Promise<any> => res.json();

function memoryLogger() {
  const lines: Record<string, any>[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

function newApp(logger = pino({ level: "silent" })) {
  return createHttpApp({ logger, authenticator: createAuthenticator({ secret: "s".repeat(32) }), readiness: { postgres: () => true } });
}

describe("root error handler", () => {
  test("when errors come from routers used into the root, nested or from their hooks, then all become problem+json", async () => {
    const inner = new Elysia({ prefix: "/inner" }).get("/gone", () => {
      throw new NotFoundError("THINGS.NOT_FOUND", "no such thing");
    });
    const moduleRoutes = new Elysia({ prefix: "/m" })
      .use(inner)
      .derive({ as: "scoped" }, ({ headers }) => {
        if (headers["x-fail-derive"]) throw new Error("derive exploded");
        return {};
      })
      .get("/ok", () => ({ ok: true }))
      .post("/typed", ({ body }) => body, { body: t.Object({ n: t.Integer() }) });
    const app = newApp().use(moduleRoutes);

    const gone = await app.handle(new Request("http://localhost/m/inner/gone"));
    expect(gone.status).toBe(404);
    expect(await json(gone)).toMatchObject({ code: "THINGS.NOT_FOUND", instance: "/m/inner/gone" });

    const derive = await app.handle(new Request("http://localhost/m/ok", { headers: { "x-fail-derive": "1" } }));
    expect(derive.status).toBe(500);
    expect(await derive.text()).not.toContain("exploded");

    const typed = await app.handle(
      new Request("http://localhost/m/typed", { method: "POST", headers: { "content-type": "application/json" }, body: '{"n":"x"}' }),
    );
    expect(typed.status).toBe(422);
    expect(typed.headers.get("content-type")).toBe("application/problem+json");
  });
});

describe("request log", () => {
  test("when a request is answered, then one info line has method, path, status, duration and request id", async () => {
    const { logger, lines } = memoryLogger();
    const app = newApp(logger).use(new Elysia().get("/hello", () => "hi"));
    await app.handle(new Request("http://localhost/hello?x=1", { headers: { "x-request-id": "log-1" } }));
    await Bun.sleep(5); // Elysia runs afterResponse hooks on the next tick
    const entry = lines.find((l) => l.requestId === "log-1");
    expect(entry).toMatchObject({ level: 30, method: "GET", path: "/hello", status: 200 });
    expect(typeof entry?.durationMs).toBe("number");
  });

  test("when a handler fails unexpectedly, then the real error is logged at error level with the request id", async () => {
    const { logger, lines } = memoryLogger();
    const app = newApp(logger).use(
      new Elysia().get("/boom", () => {
        throw new Error("select secret from vault");
      }),
    );
    await app.handle(new Request("http://localhost/boom", { headers: { "x-request-id": "log-2" } }));
    await Bun.sleep(5);
    const mine = lines.filter((l) => l.requestId === "log-2");
    expect(mine.find((l) => l.err)).toMatchObject({ level: 50, err: { message: "select secret from vault" } });
    expect(mine.find((l) => l.msg === "request")).toMatchObject({ level: 50, status: 500 });
  });

  test("when a domain error is answered, then the access line has its real status, not 500", async () => {
    const { logger, lines } = memoryLogger();
    const app = newApp(logger).use(
      new Elysia().get("/nf", () => {
        throw new NotFoundError("X.NOT_FOUND", "nope");
      }),
    );
    await app.handle(new Request("http://localhost/nf", { headers: { "x-request-id": "log-3" } }));
    await app.handle(new Request("http://localhost/nowhere", { headers: { "x-request-id": "log-4" } }));
    await Bun.sleep(5);
    expect(lines.find((l) => l.requestId === "log-3")).toMatchObject({ level: 30, status: 404 });
    expect(lines.find((l) => l.requestId === "log-4")).toMatchObject({ level: 30, status: 404, path: "/nowhere" });
  });
});

/** Listens as `shop serve` does (Elysia's listen); returns the Bun server, whose `port` is the real one for port 0. */
function listenOn(app: AnyElysia, port: number) {
  app.listen({ port, hostname: "127.0.0.1" });
  return app.server!;
}

describe("listening server", () => {
  const running: AnyElysia[] = [];
  afterEach(async () => {
    for (const app of running.splice(0)) await app.server?.stop(true);
  });
  function serve(app: AnyElysia) {
    running.push(app);
    return listenOn(app, 0);
  }

  test("when a body is larger than the limit, then Bun answers 413", async () => {
    const app = newApp().use(new Elysia().post("/upload", ({ body }) => ({ size: JSON.stringify(body).length })));
    const server = serve(app);
    const big = JSON.stringify({ blob: "x".repeat(MAX_BODY_BYTES) });
    const res = await fetch(`http://127.0.0.1:${server.port}/upload`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: big,
    });
    expect(res.status).toBe(413);
    // Bun answers before Elysia runs, with an empty body: pinned so a Bun change that lets us answer is noticed.
    expect(await res.text()).toBe("");
    const ok = await fetch(`http://127.0.0.1:${server.port}/upload`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ blob: "small" }),
    });
    expect(ok.status).toBe(200);
  });

  test("when the port is taken, then a second server fails instead of sharing it", async () => {
    const app = newApp();
    const server = serve(app);
    const second = newApp();
    running.push(second);
    expect(() => listenOn(second, server.port!)).toThrow();
  });

  test("when draining, then an in-flight request still gets its answer and new connections are refused", async () => {
    const release = Promise.withResolvers<void>();
    const entered = Promise.withResolvers<void>();
    const app = newApp().use(
      new Elysia().get("/slow", async () => {
        entered.resolve();
        await release.promise;
        return { done: true };
      }),
    );
    const server = serve(app);
    const url = `http://127.0.0.1:${server.port}`;
    const inFlight = fetch(`${url}/slow`);
    await entered.promise;

    let drained = false;
    const draining = drainHttp(app, 5_000).then(() => {
      drained = true;
    });
    await Bun.sleep(20);
    expect(drained).toBe(false);
    await expect(fetch(`${url}/health/live`)).rejects.toThrow();

    release.resolve();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ done: true });
    await draining;
    expect(drained).toBe(true);
  });

  test("when in-flight requests outlast the timeout, then draining cuts them and returns", async () => {
    const app = newApp().use(new Elysia().get("/stuck", () => new Promise(() => {})));
    const server = serve(app);
    const stuck = fetch(`http://127.0.0.1:${server.port}/stuck`).catch((error: unknown) => error);
    await Bun.sleep(20);
    const started = performance.now();
    await drainHttp(app, 100);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(await stuck).toBeInstanceOf(Error);
  });
});
