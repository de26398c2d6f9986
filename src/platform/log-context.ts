import { AsyncLocalStorage } from "node:async_hooks";
import { currentTraceId } from "./tracing/spans.ts";

/** What every log line written on behalf of one request or one message carries (pino's mixin adds it). */
export interface LogContext {
  /** The flow the request or message belongs to: the same from POST /orders to the e-mail. */
  correlationId?: string;
  /** The W3C trace the work belongs to, when one is known. */
  traceId?: string;
  requestId?: string;
  /** The message being handled (its envelope id), and the event's name. */
  messageId?: string;
  event?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

/** The context of the request or message whose code is running, if any. */
export function currentLogContext(): LogContext | undefined {
  return storage.getStore();
}

/**
 * The fields the logger adds to every line: a copy of the current context (pino merges the line's own fields
 * into it). The trace id is the active span's when tracing is on, else the context's (an incoming `traceparent`,
 * or the message's).
 */
export function logContextFields(): LogContext {
  const context = storage.getStore();
  const traceId = currentTraceId();
  if (!context) return traceId ? { traceId } : {};
  return traceId ? { ...context, traceId } : { ...context };
}

/** Runs `work` (and everything it awaits or starts) with `context` in its log lines. */
export function withLogContext<T>(context: LogContext, work: () => T): T {
  return storage.run(withoutUndefined(context), work);
}

/**
 * Puts `context` in the log lines of the rest of the current call and what it awaits: for a hook (the HTTP
 * request's first one) that cannot wrap the code after it. The server calls each request in a context of its own.
 */
export function enterLogContext(context: LogContext): void {
  storage.enterWith(withoutUndefined(context));
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The trace id of a W3C `traceparent` value (`00-<trace id>-<span id>-<flags>`), if it is a valid one. */
export function traceIdOf(traceparent: unknown): string | undefined {
  if (typeof traceparent !== "string") return undefined;
  const traceId = TRACEPARENT.exec(traceparent.trim())?.[1];
  return traceId === undefined || /^0+$/.test(traceId) ? undefined : traceId;
}

function withoutUndefined(context: LogContext): LogContext {
  const out: LogContext = {};
  for (const [key, value] of Object.entries(context) as Array<[keyof LogContext, string | undefined]>) if (value !== undefined) out[key] = value;
  return out;
}
