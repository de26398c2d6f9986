/**
 * Server-Sent Events framing (https://html.spec.whatwg.org/multipage/server-sent-events.html): what an event
 * stream's lines look like on the wire. Data is JSON, written on one `data:` line (JSON.stringify never emits a
 * newline), so a client's parser sees exactly one event per block.
 */
export interface SseEvent {
  /** The client sends the last one it saw back as `Last-Event-ID` when it reconnects. */
  id: string;
  event: string;
  data: unknown;
}

export function formatEvent(event: SseEvent): string {
  return `id: ${event.id}\nevent: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/** How long a client waits before reconnecting after the connection drops. */
export function formatRetry(ms: number): string {
  return `retry: ${ms}\n\n`;
}

/** A comment line: clients ignore it; proxies and load balancers see traffic and keep the connection. */
export function formatComment(text: string): string {
  return `: ${text}\n\n`;
}
