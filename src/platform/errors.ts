/**
 * What the application layer refuses, in its own terms. No protocol in here: an error has a `kind` (what sort
 * of refusal), a stable machine-readable `code` (e.g. `ORDERS.INVALID_TRANSITION`), a message for people and
 * optional `details`. The HTTP edge (src/platform/http/problem.ts) decides once which status each kind gets.
 */
export type ErrorKind =
  /** The thing asked for does not exist (or the caller may not know it exists). */
  | "not-found"
  /** The request clashes with the current state (a status that forbids the transition, a lost race). */
  | "conflict"
  /** Well-formed input that a rule refuses, e.g. an unknown sku or a cursor this API never issued. */
  | "invalid"
  /** The caller is known but not allowed to do this. */
  | "forbidden"
  /** The caller is not (validly) authenticated. */
  | "unauthenticated"
  /** A dependency is down; the same request may succeed later. */
  | "unavailable"
  /** The caller sent more requests than it may in a while; the same request passes after a wait. */
  | "rate-limited";

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    // `new.target` so that subclasses show their own name in logs.
    this.name = new.target.name;
  }
}

export class NotFoundError extends DomainError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super("not-found", code, message, details);
  }
}

export class ConflictError extends DomainError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super("conflict", code, message, details);
  }
}

export class InvalidError extends DomainError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super("invalid", code, message, details);
  }
}

export class ForbiddenError extends DomainError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super("forbidden", code, message, details);
  }
}

export class UnauthenticatedError extends DomainError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super("unauthenticated", code, message, details);
  }
}

export class UnavailableError extends DomainError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super("unavailable", code, message, details);
  }
}

/** Too many requests from one caller: `retryAfterSeconds` (at least 1) says when the next one will pass. */
export class RateLimitedError extends DomainError {
  constructor(
    code: string,
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super("rate-limited", code, message, { retryAfterSeconds });
  }
}

/**
 * An event handler's "not now": the state it needs is moving under it (a concurrent update won a race), so the
 * same delivery should be tried again later, when it will see the new state. The consumer retries it like any
 * handler failure. Not a DomainError: nobody is refused anything, and no client ever sees it.
 */
export class RetryLaterError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
