import { Elysia, ValidationError, type AnyElysia } from "elysia";
import { traceIdOf } from "../log-context.ts";
import type { Logger } from "../logger.ts";
import { httpMetrics } from "../metrics/http-metrics.ts";
import type { Registry } from "../metrics/registry.ts";
import { authPlugin } from "./auth.ts";
import type { Authenticator } from "./authenticator.ts";
import { corsPolicy, type CorsSettings } from "./cors.ts";
import { docs, eventsDocumentRoute } from "./docs.ts";
import { registerFormats } from "./formats.ts";
import { healthRoutes, type Readiness, type ReadinessCheck } from "./health.ts";
import { metricsRoute } from "./metrics-route.ts";
import { parseJsonBody } from "./json-body.ts";
import { refuseNulCharacters } from "./nul-characters.ts";
import { errorToProblem } from "./problem.ts";
import { requestContext, requestIdsOf, TRACEPARENT_HEADER } from "./request-context.ts";
import { httpTracing } from "./tracing.ts";
import { tracingEnabled } from "../tracing/spans.ts";
import { locateDecodeFailure, type ValidatedParts } from "./validation-errors.ts";

/** Largest request body accepted, in bytes. */
export const MAX_BODY_BYTES = 1_000_000;

export interface HttpAppOptions {
  logger: Logger;
  /** The process's one authenticator, also handed to every module (their routers then verify a token once). */
  authenticator: Authenticator;
  /** Readiness checks by name, e.g. `{ postgres, rabbitmq }`, each with what its being down means (health.ts). */
  readiness: Record<string, ReadinessCheck | Readiness>;
  version?: string;
  /** The AsyncAPI document of the events, served at `GET /docs/asyncapi.json` (src/platform/messaging/asyncapi.ts). */
  eventsDocument?: object;
  /** The module that serves a route (method and path template), for the request's log lines. */
  moduleOfRoute?: (method: string, route: string) => string | undefined;
  /** The process's metrics: requests are counted and timed there, and `GET /metrics` serves it. */
  metrics?: Registry;
  /** Browser origins allowed to call the API; unset or no origins: no CORS headers, OPTIONS is not answered. */
  cors?: CorsSettings;
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
  // The ids are read from the response headers: the access log runs after the response, outside the request's log context.
  const requestFields = (request: Request, set: { headers: Record<string, unknown> }, route: string | undefined) => {
    const { requestId, correlationId } = requestIdsOf(set);
    return {
      module: route === undefined ? undefined : options.moduleOfRoute?.(request.method, route),
      requestId,
      correlationId,
      traceId: traceIdOf(request.headers.get(TRACEPARENT_HEADER)),
    };
  };
  const requests = options.metrics && httpMetrics(options.metrics);
  registerFormats();
  // The root's route table, read by the error handler to locate a bound broken by a decoded number.
  const table: { routes?: () => readonly RouteEntry[] } = {};
  const app = (
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
      // Only when tracing is on: with it off, requests run exactly as without tracing.
      .use(tracingEnabled() ? httpTracing() : new Elysia({ name: "platform.http-tracing.off" }))
      .onRequest(({ request }) => {
        startedAt.set(request, performance.now());
      })
      // Before the error handler and every route, so problem documents carry the CORS headers too.
      .use(options.cors?.origins.length ? corsPolicy(options.cors) : new Elysia({ name: "platform.cors.off" }))
      // Elysia runs the root's error hooks for routes of every router used after this line, and
      // for requests that match no route at all.
      .onError((context) => {
        const { error, request, set } = context;
        const fields = requestFields(request, set, context.route);
        const { requestId } = fields;
        const path = new URL(request.url).pathname;
        const decodeFailure =
          error instanceof ValidationError && error.type === "property" ? locateDecodeFailure(validatedParts(table.routes?.() ?? [], context)) : undefined;
        const response = errorToProblem(error, { requestId, instance: path, decodeFailure });
        if (response.status >= 500) logger.error({ err: error, ...fields, method: request.method, path }, "request failed");
        // Elysia leaves set.status at 500 for errors without a `status`; the access log reads it.
        set.status = response.status;
        return response;
      })
      // JSON bodies: malformed → 400 even where the body is optional; absurd nesting → 400 before validation.
      .onParse(parseJsonBody)
      .onAfterResponse(({ request, set, response, route }) => {
        const status = response instanceof Response ? response.status : Number(set.status ?? 200);
        const started = startedAt.get(request);
        // By the route template Elysia matched (`/orders/:id`), never the raw path.
        if (requests && started !== undefined) requests.record(route, request.method, status, (performance.now() - started) / 1000);
        const entry = {
          ...requestFields(request, set, route),
          method: request.method,
          path: new URL(request.url).pathname,
          status,
          durationMs: started === undefined ? undefined : Math.round((performance.now() - started) * 10) / 10,
        };
        if (status >= 500) logger.error(entry, "request");
        else logger.info(entry, "request");
      })
      .use(docs({ version: options.version }))
      .use(options.eventsDocument ? eventsDocumentRoute(options.eventsDocument) : new Elysia())
      .use(healthRoutes(options.readiness))
      .use(options.metrics ? metricsRoute(options.metrics) : new Elysia())
      // For the routes added after this line (not health and docs, which read no input), after validation and the
      // routes' own auth checks (transform): text PostgreSQL cannot store → 422 naming the field, not a 500.
      .onBeforeHandle(({ body, query, params }) => refuseNulCharacters({ body, query, params }))
      // Last, so health and docs stay reachable with a broken Authorization header.
      .use(authPlugin(options.authenticator))
  );
  table.routes = () => app.routes;
  return app;
}

interface RouteEntry {
  method: string;
  path: string;
  hooks: Partial<Record<keyof ValidatedParts, unknown>>;
}

/** The schemas of the route this request matched, with the values Elysia checked against them. */
function validatedParts(
  routes: readonly RouteEntry[],
  context: { request: Request; route?: string; headers?: unknown; params?: unknown; query?: unknown; body?: unknown },
): ValidatedParts {
  const hooks = routes.find((r) => r.method === context.request.method && r.path === context.route)?.hooks ?? {};
  return {
    headers: { schema: hooks.headers, value: context.headers },
    params: { schema: hooks.params, value: context.params },
    query: { schema: hooks.query, value: context.query },
    body: { schema: hooks.body, value: context.body },
  };
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
