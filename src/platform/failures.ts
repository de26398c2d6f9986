/**
 * What a failed database or broker call means for whoever tries it again: the one place that reads error codes.
 * drizzle wraps the driver's error in a DrizzleQueryError (the PostgresError is its `cause`), so the `cause`
 * chain is walked: bounded and cycle-safe, the first node whose code this table knows decides.
 */
export type FailureKind =
  /** The database (or the way to it) is gone or refuses connections right now; the work itself is fine. */
  | "unreachable"
  /** The server cut the work off for taking too long (statement or idle-in-transaction timeout): load, or the work itself. */
  | "overloaded"
  /** The server aborted the transaction in favour of a concurrent one (serialization failure, deadlock): tried again, it succeeds. */
  | "contention"
  /** A prepared statement a schema change made stale; the client has forgotten it (scripts/patch-dependencies.mjs), so tried again, it succeeds. */
  | "stale"
  /** The data broke an integrity constraint (SQLSTATE class 23): `constraint` names it. */
  | "constraint"
  /** Anything else: a bug, bad data, a refused login. `code` is the SQLSTATE when the database said one. */
  | "other";

export interface Failure {
  kind: FailureKind;
  /** The code that decided (a SQLSTATE, a postgres.js code such as CONNECTION_CLOSED, a socket code such as ECONNREFUSED). */
  code?: string;
  /** What the error carrying `code` said: for a SQLSTATE, the database's own words without drizzle's "Failed query: …". */
  message?: string;
  /** The constraint a `constraint` failure broke. */
  constraint?: string;
}

// Socket errors (Node/Bun), postgres.js's own connection errors, and the SQLSTATEs of a server that is shutting
// down, starting up or refusing connections. Class 08 (connection exception) is matched by its prefix.
const CODES: Record<string, FailureKind> = {
  ECONNREFUSED: "unreachable",
  ECONNRESET: "unreachable",
  EPIPE: "unreachable",
  ETIMEDOUT: "unreachable",
  ENOTFOUND: "unreachable",
  EAI_AGAIN: "unreachable",
  CONNECTION_CLOSED: "unreachable",
  CONNECTION_ENDED: "unreachable",
  CONNECTION_DESTROYED: "unreachable",
  CONNECT_TIMEOUT: "unreachable",
  "57P01": "unreachable", // admin_shutdown
  "57P02": "unreachable", // crash_shutdown
  "57P03": "unreachable", // cannot_connect_now (starting up, recovery)
  "53300": "unreachable", // too_many_connections: the server refuses the connection, whatever the work
  "57014": "overloaded", // query_canceled: the statement ran past DATABASE_STATEMENT_TIMEOUT_MS
  "25P03": "overloaded", // idle_in_transaction_session_timeout: the server ended the session
  "40001": "contention", // serialization_failure
  "40P01": "contention", // deadlock_detected
};

const SQLSTATE = /^[0-9A-Z]{5}$/;
const MAX_DEPTH = 8;

/** What `error` (or the first error on its `cause` chain that carries a known code) means. */
export function classify(error: unknown): Failure {
  let database: Failure | undefined;
  const seen = new Set<object>();
  let current: unknown = error;
  for (let depth = 0; typeof current === "object" && current !== null && depth < MAX_DEPTH && !seen.has(current); depth++) {
    seen.add(current);
    const node = current as { code?: unknown; message?: unknown; routine?: unknown; constraint_name?: unknown; cause?: unknown };
    if (typeof node.code === "string") {
      const code = node.code;
      const message = typeof node.message === "string" ? node.message : undefined;
      const kind = code.startsWith("08") && SQLSTATE.test(code) ? "unreachable" : CODES[code];
      if (kind) return { kind, code, message };
      if (code === "0A000" && node.routine === "RevalidateCachedQuery") return { kind: "stale", code, message };
      if (SQLSTATE.test(code) && code.startsWith("23")) {
        const constraint = typeof node.constraint_name === "string" ? node.constraint_name : undefined;
        return { kind: "constraint", code, message, constraint };
      }
      // Keep walking: a known code further down decides; otherwise this is the database's answer.
      if (SQLSTATE.test(code)) database ??= { kind: "other", code, message };
    }
    current = node.cause;
  }
  return database ?? { kind: "other" };
}

/**
 * Whether the same work, tried again unchanged, is expected to succeed, so that failing it is not the work's
 * fault: the database is unreachable, lost a race, or had a stale statement. A timeout is not: the work may be
 * what is slow.
 */
export function isTransient(error: unknown): boolean {
  const { kind } = classify(error);
  return kind === "unreachable" || kind === "contention" || kind === "stale";
}

/** A short reason for a failed call, for a log line: "ECONNREFUSED", "57P03", or else the error's message. */
export function describeFailure(error: unknown): string {
  const top = error as { code?: unknown; message?: unknown } | null | undefined;
  const reason = classify(error).code ?? top?.code ?? top?.message;
  return typeof reason === "string" ? reason : String(error);
}
