import pino from "pino";

export type Logger = pino.Logger;

/**
 * JSON lines on stdout (pino). pino's worker-thread transports are left out on purpose:
 * they do not survive `bun build --compile`, and a log shipper reads stdout anyway.
 */
export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { ...base }, timestamp: pino.stdTimeFunctions.isoTime });
}
