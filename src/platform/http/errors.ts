/**
 * A refusal by a business rule. Carries a stable, machine-readable `code` (e.g. `ORDERS.NOT_CANCELLABLE`)
 * and no HTTP status: which status a kind of refusal gets is decided once, in `problem.ts`.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    // `new.target` so that subclasses and module-specific errors show their own name in logs.
    this.name = new.target.name;
  }
}

/** The thing asked for does not exist (or the caller may not know it exists). */
export class NotFoundError extends DomainError {}

/** The request clashes with the current state (a status that forbids the transition, a lost race). */
export class ConflictError extends DomainError {}

/** Well-formed input that a business rule refuses, e.g. an unknown sku. */
export class UnprocessableError extends DomainError {}

/** The caller is known but not allowed to do this. */
export class ForbiddenError extends DomainError {}

/** The caller is not (validly) authenticated. */
export class UnauthorizedError extends DomainError {}

/** A dependency is down; the same request may succeed later. */
export class ServiceUnavailableError extends DomainError {}
