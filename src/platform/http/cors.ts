import { cors } from "@elysiajs/cors";
import { Elysia } from "elysia";

/** Which browser origins may call the API (CORS_ORIGINS, CORS_CREDENTIALS, CORS_MAX_AGE). */
export interface CorsSettings {
  /** Exact origins (`https://shop.example.com`), or `["*"]` for any origin; empty: no CORS at all. */
  origins: string[];
  /** Whether a browser may send cookies/HTTP auth along (Access-Control-Allow-Credentials: true). */
  credentials: boolean;
  /** How long a browser may cache a preflight's answer, in seconds (0: the browser's own default, 5 s). */
  maxAgeSeconds: number;
}

/** The methods the API's routes use. */
const ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
/**
 * The request headers the API reads: the token, JSON bodies, idempotent POSTs, request ids, trace context, and where a
 * live status stream resumes (a fetch-based SSE client sends Last-Event-ID itself, and it is not CORS-safelisted).
 */
const ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Request-Id, X-Correlation-Id, traceparent, Last-Event-ID";
/** The response headers a browser script may read besides the CORS-safelisted ones. */
const EXPOSED_HEADERS = "Location, Idempotent-Replayed, X-Request-Id, X-Correlation-Id, X-Trace-Id, Retry-After";

/**
 * CORS for the listed origins, on every answer including the error handler's problem documents; an origin not
 * listed gets no Access-Control-Allow-* header at all (its request is still answered: the browser is the one
 * that refuses to hand the answer to the page). Any OPTIONS request is a preflight, answered 204.
 *
 * @elysiajs/cors matches the origin, sets `Vary: Origin` and answers the preflight; the other headers are set
 * here, and only for an allowed origin, because the plugin would put them on every response.
 */
export function corsPolicy(settings: CorsSettings) {
  const anyOrigin = settings.origins.includes("*");
  const listed = new Set(settings.origins);
  const allows = (request: Request) => {
    const origin = request.headers.get("origin");
    return origin !== null && (anyOrigin || listed.has(origin));
  };
  return (
    new Elysia({ name: "platform.cors" })
      .onRequest(({ request, set }) => {
        if (!allows(request)) return;
        set.headers["access-control-expose-headers"] = EXPOSED_HEADERS;
        if (settings.credentials) set.headers["access-control-allow-credentials"] = "true";
        if (request.method === "OPTIONS") {
          set.headers["access-control-allow-methods"] = ALLOWED_METHODS;
          set.headers["access-control-allow-headers"] = ALLOWED_HEADERS;
          if (settings.maxAgeSeconds > 0) set.headers["access-control-max-age"] = String(settings.maxAgeSeconds);
        }
      })
      // Runs after the hook above: for OPTIONS it answers at once with the headers set so far.
      .use(
        cors({
          // A function rather than the list: the plugin also accepts an origin whose host alone is listed.
          origin: anyOrigin ? "*" : (request) => allows(request),
          methods: false,
          // false (which its types omit, but its code reads) leaves both headers to the hook above.
          allowedHeaders: false as unknown as string,
          exposeHeaders: false as unknown as string,
          credentials: false,
          maxAge: 0,
          preflight: true,
        }),
      )
  );
}
