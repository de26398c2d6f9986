import type { Sql } from "./db.ts";
import type { Logger } from "./logger.ts";

/**
 * What a subscriber hears: the rest of a notification's payload after its key, or `undefined` when the listener
 * has just (re)connected — notifications sent while it was away are lost, so whatever the subscriber follows must
 * be read again.
 */
export type FanOutListener = (detail: string | undefined) => void;

/**
 * One LISTEN on `channel` (on the pool's single listen connection, which postgres.js re-establishes after it drops)
 * fanned out to subscribers by key: a payload `key:detail` reaches the subscribers of `key`. A notification is only
 * a wake-up: subscribers read what changed from the database.
 */
export class NotificationFanOut {
  private readonly subscribers = new Map<string, Set<FanOutListener>>();
  private unlisten: (() => Promise<void>) | undefined;

  constructor(private readonly options: { sql: Sql; channel: string; logger: Logger }) {}

  async start(): Promise<void> {
    const { sql, channel, logger } = this.options;
    try {
      const { unlisten } = await sql.listen(
        channel,
        (payload) => this.dispatch(payload),
        // Runs on every (re)listen, the first included.
        () => this.everyone(undefined),
      );
      this.unlisten = unlisten;
    } catch (error) {
      logger.warn({ err: (error as Error).message, channel }, "LISTEN failed; subscribers see changes only when they read again");
    }
  }

  async stop(): Promise<void> {
    await this.unlisten?.().catch(() => {});
    this.unlisten = undefined;
  }

  /** Calls `listener` for every notification about `key` and on every reconnect; returns the unsubscribe. */
  subscribe(key: string, listener: FanOutListener): () => void {
    const listeners = this.subscribers.get(key) ?? new Set();
    listeners.add(listener);
    this.subscribers.set(key, listeners);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.subscribers.get(key) === listeners) this.subscribers.delete(key);
    };
  }

  /** Subscriptions open now (each stream holds one while it lives). */
  get size(): number {
    let count = 0;
    for (const listeners of this.subscribers.values()) count += listeners.size;
    return count;
  }

  private dispatch(payload: string): void {
    const colon = payload.indexOf(":");
    const key = colon < 0 ? payload : payload.slice(0, colon);
    for (const listener of this.subscribers.get(key) ?? []) listener(colon < 0 ? "" : payload.slice(colon + 1));
  }

  private everyone(detail: undefined): void {
    for (const listeners of this.subscribers.values()) for (const listener of listeners) listener(detail);
  }
}
