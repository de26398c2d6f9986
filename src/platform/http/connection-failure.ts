// Codes that mean "the database (or the way to it) is gone or overloaded right now", not "this query is wrong":
// Node/Bun socket errors, postgres.js's own connection errors, and SQLSTATEs of a server that is
// shutting down, starting up or refusing connections. Class 08 is "connection exception".
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, recovery)
  "53300", // too_many_connections
  "57014", // query_canceled: the statement ran past DATABASE_STATEMENT_TIMEOUT_MS (overload, a long lock wait)
  "25P03", // idle_in_transaction_session_timeout: the server ended the session
]);

/**
 * True when the error, or anything on its `cause` chain (drizzle wraps the driver's error in a
 * DrizzleQueryError), says the database connection failed — a reason to answer 503, not 500.
 */
export function isConnectionFailure(error: unknown): boolean {
  let current: unknown = error;
  // Bounded: a cause chain can be cyclic.
  for (let depth = 0; current !== null && typeof current === "object" && depth < 8; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && (CONNECTION_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
