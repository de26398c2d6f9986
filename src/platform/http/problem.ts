import {
  ElysiaCustomStatusResponse,
  InvalidCookieSignature,
  InvalidFileType,
  InvertedStatusMap,
  NotFoundError as RouteNotFoundError,
  ParseError,
  ValidationError,
  t,
} from "elysia";
import { classify, type FailureKind } from "../failures.ts";
import { DomainError, RateLimitedError, type ErrorKind } from "../errors.ts";
import { fieldErrors } from "./validation-errors.ts";

/** RFC 9457 media type of every error answer. */
export const PROBLEM_CONTENT_TYPE = "application/problem+json";

// RFC 9457 asks for a URI as `type` whenever the title is not the plain status phrase; tag URIs
// are its suggestion when there is no page to point to.
const TYPE_BASE = "tag:shop,2025:problem/";
const RETRY_AFTER_SECONDS = "5";

/** The body every error answer carries; members beyond these are extensions (`code`, `errors`, details). */
export const ProblemSchema = t.Object(
  {
    type: t.String({ description: "a URI naming the kind of problem; about:blank means only the status" }),
    title: t.String(),
    status: t.Number(),
    detail: t.Optional(t.String()),
    instance: t.Optional(t.String({ description: "the request path" })),
    requestId: t.Optional(t.String()),
    code: t.Optional(t.String({ description: "stable machine-readable reason, e.g. ORDERS.NOT_CANCELLABLE" })),
    errors: t.Optional(
      t.Array(t.Object({ in: t.String(), field: t.String({ description: "JSON Pointer" }), message: t.String() })),
    ),
  },
  { additionalProperties: true },
);

export interface ProblemInit {
  type?: string;
  title: string;
  detail?: string;
  [extension: string]: unknown;
}

/** An `application/problem+json` Response. `type` defaults to about:blank (then `title` should be the status phrase). */
export function problemResponse(status: number, problem: ProblemInit, headers: Record<string, string> = {}): Response {
  const { type, title, detail, ...extensions } = problem;
  const body: Record<string, unknown> = { type: type ?? "about:blank", title, status };
  if (detail !== undefined) body.detail = detail;
  // An extension can never overwrite the standard members (a domain error's details are spread in here).
  for (const [name, value] of Object.entries(extensions)) if (!(name in body)) body[name] = value;
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...headers, "content-type": PROBLEM_CONTENT_TYPE },
  });
}

export interface ProblemContext {
  requestId: string;
  /** The request path; RFC 9457 `instance`. */
  instance?: string;
  /** Where a ValidationError of type "property" really was (see `locateDecodeFailure`). */
  decodeFailure?: { in: string; field: string };
}

// The database is away or overloaded, or a schema change under this instance made a prepared statement stale
// (forgotten by now): the client's retry is expected to succeed.
const UNAVAILABLE = new Set<FailureKind>(["unreachable", "overloaded", "stale"]);

/** The HTTP status of each kind of domain refusal: the only place where the two meet. */
const STATUS_OF_KIND: Record<ErrorKind, number> = {
  "not-found": 404,
  conflict: 409,
  invalid: 422,
  forbidden: 403,
  unauthenticated: 401,
  unavailable: 503,
  "rate-limited": 429,
};

/**
 * The one place that turns a thrown error into an HTTP answer. Anything it does not recognise
 * becomes a generic 500 that says nothing about the error (its message may hold SQL and data):
 * the caller logs the real error for status >= 500.
 */
export function errorToProblem(error: unknown, context: ProblemContext): Response {
  const common = { instance: context.instance, requestId: context.requestId };

  if (error instanceof DomainError) {
    const status = STATUS_OF_KIND[error.kind];
    const headers: Record<string, string> = {};
    if (status === 401) headers["www-authenticate"] = "Bearer";
    if (status === 503) headers["retry-after"] = RETRY_AFTER_SECONDS;
    if (error instanceof RateLimitedError) headers["retry-after"] = String(error.retryAfterSeconds);
    // details first so they can never overwrite the standard members.
    return problemResponse(status, { ...error.details, title: statusPhrase(status), detail: error.message, code: error.code, ...common }, headers);
  }

  if (error instanceof ValidationError) {
    // A handler that returned something its own response schema refuses is our bug, not the client's.
    if (error.type === "response") return internalError(common);
    return problemResponse(422, {
      type: `${TYPE_BASE}validation`,
      title: "Request validation failed",
      detail: `The request ${partName(error.type, context.decodeFailure)}has invalid fields.`,
      errors: context.decodeFailure ? fieldErrors(error).map((e) => ({ ...e, ...context.decodeFailure })) : fieldErrors(error),
      ...common,
    });
  }
  if (error instanceof InvalidFileType) {
    return problemResponse(422, { type: `${TYPE_BASE}validation`, title: "Request validation failed", detail: error.message, ...common });
  }
  if (error instanceof ParseError) {
    return problemResponse(400, {
      type: `${TYPE_BASE}malformed-body`,
      title: "Malformed JSON body",
      detail: "The request body could not be parsed as its Content-Type says.",
      ...common,
    });
  }
  if (error instanceof InvalidCookieSignature) {
    return problemResponse(400, { title: "Bad Request", detail: "A cookie has an invalid signature.", ...common });
  }
  if (error instanceof RouteNotFoundError) {
    return problemResponse(404, { title: "Not Found", detail: "No route matches this method and path.", ...common });
  }
  if (error instanceof ElysiaCustomStatusResponse) {
    // A handler threw Elysia's status(...) instead of a DomainError: honour the status, keep a string response as detail.
    const status = Number(error.code);
    if (status >= 400 && status < 500) {
      const detail = typeof error.response === "string" ? error.response : undefined;
      return problemResponse(status, { title: statusPhrase(status), detail, ...common });
    }
  }
  if (UNAVAILABLE.has(classify(error).kind)) {
    return problemResponse(
      503,
      { type: `${TYPE_BASE}service-unavailable`, title: "Service temporarily unavailable", detail: "Please retry shortly.", ...common },
      { "retry-after": RETRY_AFTER_SECONDS },
    );
  }
  return internalError(common);
}

// "The request query has…"; a "property" error that could not be located says only "The request has…".
function partName(type: string, located: { in: string } | undefined): string {
  if (located) return `${located.in} `;
  return type === "property" ? "" : `${type} `;
}

function internalError(common: { instance: string | undefined; requestId: string }): Response {
  return problemResponse(500, { title: "Internal Server Error", ...common });
}

function statusPhrase(status: number): string {
  return (InvertedStatusMap as Record<number, string>)[status] ?? "Error";
}
