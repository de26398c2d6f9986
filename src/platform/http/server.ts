import { Elysia, type AnyElysia } from "elysia";
import type { Logger } from "../logger.ts";
import { authPlugin } from "./auth.ts";
import { docs } from "./docs.ts";
import { healthRoutes, type ReadinessCheck } from "./health.ts";
import { errorToProblem } from "./problem.ts";
import { requestContext, requestIds } from "./request-context.ts";

/** Largest request body accepted, in bytes. */
export const MAX_BODY_BYTES = 1_000_000;

export interface HttpAppOptions {
  logger: Logger;
  authSecret: string;
  /** Readiness checks by name, e.g. `{ postgres, rabbitmq }`. */
  readiness: Record<string, ReadinessCheck>;
  version?: string;
}

const startedAt = new WeakMap<Request, number>();

/**
 * The root Elysia app: request/correlation ids, one error handler for everything, access logs,
 * docs, health, and `principal` derived for every route added after it. Modules plug in with
 * `app.use(moduleRoutes)` after this returns: Elysia copies a router's routes into the root on
 * `.use()` and gives each copy the root hooks registered so far, so the error handler and logging
 * must come first.
 */
export function createHttpApp(options: HttpAppOptions) {
  const { logger } = options;
  return (
    new Elysia({
      serve: {
        // Bun refuses a larger body itself with a bare 413 (no problem+json: it answers before
        // our fetch handler runs, and for chunked bodies it discards whatever we answered).
        maxRequestBodySize: MAX_BODY_BYTES,
        // Elysia turns reusePort on by default: a second instance on the same port would start
        // silently and share the traffic instead of failing with EADDRINUSE.
        reusePort: false,
      },
    })
      .use(requestContext())
      .onRequest(({ request }) => {
        startedAt.set(request, performance.now());
      })
      // Elysia runs the root's error hooks for routes of every router used after this line, and
      // for requests that match no route at all.
      .onError(({ error, request, set }) => {
        const { requestId } = requestIds(request);
        const path = new URL(request.url).pathname;
        const response = errorToProblem(error, { requestId, instance: path });
        if (response.status >= 500) logger.error({ err: error, requestId, method: request.method, path }, "request failed");
        // Elysia leaves set.status at 500 for errors without a `status`; the access log reads it.
        set.status = response.status;
        return response;
      })
      .onAfterResponse(({ request, set, response }) => {
        const status = response instanceof Response ? response.status : Number(set.status ?? 200);
        const started = startedAt.get(request);
        const entry = {
          requestId: requestIds(request).requestId,
          method: request.method,
          path: new URL(request.url).pathname,
          status,
          durationMs: started === undefined ? undefined : Math.round((performance.now() - started) * 10) / 10,
        };
        if (status >= 500) logger.error(entry, "request");
        else logger.info(entry, "request");
      })
      .use(docs({ version: options.version }))
      .use(healthRoutes(options.readiness))
      // Last, so health and docs stay reachable with a broken Authorization header.
      .use(authPlugin(options.authSecret))
  );
}

export type HttpApp = ReturnType<typeof createHttpApp>;
type HttpServer = NonNullable<AnyElysia["server"]>;

/** Starts listening; returns the Bun server (its `port` is the real one when `port` was 0). */
export function startHttpServer(app: AnyElysia, port: number, hostname = "0.0.0.0"): HttpServer {
  app.listen({ port, hostname });
  if (!app.server) throw new Error(`HTTP server did not start on port ${port}`);
  return app.server;
}

/**
 * Graceful stop: stop accepting connections and wait until in-flight requests are answered
 * (Bun `server.stop()` without `true`); after `timeoutMs`, cut the remaining ones. Use this rather
 * than `app.stop()`, which fires Elysia's onStop hooks without awaiting them.
 */
export async function drainHttp(app: AnyElysia, timeoutMs = 10_000): Promise<void> {
  const server = app.server;
  if (!server) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const drained = await Promise.race([
    server.stop(false).then(() => true),
    new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (!drained) await server.stop(true);
}
