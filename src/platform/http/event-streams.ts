import type { Server } from "bun";
import { UnavailableError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { formatComment, formatEvent, formatRetry, type SseEvent } from "./sse.ts";

export interface EventStreamsOptions {
  /** Streams open at once in this process; one more is refused with 503. */
  maxStreams: number;
  /** A comment line this often keeps proxies from closing a quiet stream. */
  heartbeatMs: number;
  /** The `retry:` hint: how long a client waits before reconnecting. */
  retryMs: number;
  logger: Logger;
}

/**
 * Writes a stream's events until it has nothing more to say (returns) or `signal` aborts: the client went away
 * or the process is stopping. It must return promptly once `signal` is aborted.
 */
export type StreamProducer = (send: (event: SseEvent) => void, signal: AbortSignal) => Promise<void>;

/** The request a stream answers, and the Bun server holding its connection. */
export interface StreamRequest {
  request: Request;
  server?: Pick<Server<unknown>, "timeout"> | null;
}

/**
 * The `text/event-stream` responses one module holds open: at most `maxStreams` of them, each with a `retry:` hint
 * and heartbeats, each ended when the client goes away, and all of them ended by `closeAll()` when the process
 * stops — the HTTP drain would otherwise wait for them until its deadline.
 */
export class EventStreams {
  private readonly open = new Map<AbortController, Promise<void>>();
  private closing = false;

  constructor(private readonly options: EventStreamsOptions) {}

  /** How many streams are open now. */
  get size(): number {
    return this.open.size;
  }

  /** Answers with a stream that `produce` writes. UnavailableError (503) when `maxStreams` are open or the process is stopping. */
  respond({ request, server }: StreamRequest, produce: StreamProducer): Response {
    const { maxStreams, heartbeatMs, retryMs, logger } = this.options;
    if (this.closing) throw new UnavailableError("STREAMS.STOPPING", "This instance is stopping; reconnect to another one.");
    if (this.open.size >= maxStreams) {
      throw new UnavailableError("STREAMS.TOO_MANY", `This instance already serves ${maxStreams} event streams; try again later.`, { maxStreams });
    }
    // Bun closes a connection that sent nothing for its idleTimeout (Elysia sets 30 s): a stream is quiet between
    // heartbeats, so its connection gets no idle timeout; a client that goes away still ends it (cancel below).
    server?.timeout(request, 0);
    const abort = new AbortController();
    request.signal.addEventListener("abort", () => abort.abort(), { once: true });
    const encoder = new TextEncoder();
    const done = Promise.withResolvers<void>();
    this.open.set(abort, done.promise);
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        const write = (text: string) => {
          if (!abort.signal.aborted) controller.enqueue(encoder.encode(text));
        };
        write(formatRetry(retryMs));
        const heartbeat = setInterval(() => write(formatComment("heartbeat")), heartbeatMs);
        produce((event) => write(formatEvent(event)), abort.signal)
          .catch((error: unknown) => logger.warn({ err: (error as Error).message }, "event stream ended by a failure; the client will reconnect"))
          .finally(() => {
            clearInterval(heartbeat);
            abort.abort();
            this.open.delete(abort);
            try {
              controller.close();
            } catch {
              // the client cancelled it: closed already
            }
            done.resolve();
          });
      },
      cancel: () => abort.abort(),
    });
    return new Response(stream, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        // nginx buffers responses by default, which would hold the events back.
        "x-accel-buffering": "no",
      },
    });
  }

  /** Refuses new streams, ends the open ones, and resolves once each has closed. */
  async closeAll(): Promise<void> {
    this.closing = true;
    const closing = [...this.open];
    for (const [abort] of closing) abort.abort();
    await Promise.all(closing.map(([, done]) => done));
  }
}
