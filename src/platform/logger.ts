import pino from "pino";
import { logContextFields } from "./log-context.ts";

export type Logger = pino.Logger;

/**
 * Fields that hold personal data or credentials, censored in every line whatever the level: recipients and
 * e-mail addresses, e-mail bodies, tokens and Authorization headers.
 */
export const REDACTED_PATHS = [
  "to",
  "*.to",
  "email",
  "*.email",
  "text",
  "*.text",
  "html",
  "*.html",
  "token",
  "*.token",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
];

// What a redact path cannot catch: an address or a token inside a message or an error text.
const EMAIL_ADDRESS = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const JWT = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g;

/** A finished log line with every e-mail address and JSON Web Token in it replaced. */
export function scrubLine(line: string): string {
  return line.replace(EMAIL_ADDRESS, "[email]").replace(JWT, "[token]");
}

/**
 * JSON lines on stdout (pino). pino's worker-thread transports are left out on purpose:
 * they do not survive `bun build --compile`, and a log shipper reads stdout anyway.
 * Every line written while a request or a message is handled carries its `correlationId`, `requestId` or
 * `messageId`/`event`, and `traceId` when known (log-context.ts); personal data is redacted.
 */
export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { ...base },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: logContextFields,
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    hooks: { streamWrite: scrubLine },
  });
}
