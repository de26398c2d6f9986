import type { Sql } from "./db.ts";
import type { Logger } from "./logger.ts";

export interface NotifiedLoopOptions {
  /** For the logs: "orders outbox relay", "mail dispatcher", ... */
  name: string;
  sql: Sql;
  /** The Postgres NOTIFY channel that announces new work (sent at commit, so it never announces a rollback). */
  channel: string;
  /** Ignore notifications on the channel that are not for this loop. */
  accepts?: (payload: string) => boolean;
  /** Poll interval: the fallback for notifications missed while the listener was reconnecting. */
  pollMs: number;
  /**
   * How long a wake waits before its pass, so that work arriving meanwhile is taken in the same pass (default 0).
   * For work whose latency matters less than its cost per item.
   */
  lingerMs?: number;
  /** One pass over the work; returns true when there may be more right away (a full batch). */
  pass: () => Promise<boolean>;
  logger: Logger;
}

/**
 * A background loop that works when Postgres says there is work (LISTEN/NOTIFY), with a polling
 * fallback. Passes never overlap in one process; a wake during a pass schedules one more after it.
 * Several processes can run the same loop: the passes themselves claim rows with SKIP LOCKED.
 */
export class NotifiedLoop {
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private unlisten: (() => Promise<void>) | undefined;
  private lingering: { timer: ReturnType<typeof setTimeout>; done: Promise<void>; cancel: () => void } | undefined;

  constructor(private readonly options: NotifiedLoopOptions) {}

  async start(): Promise<void> {
    const { sql, channel, accepts, pollMs, logger, name } = this.options;
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), pollMs);
    try {
      const { unlisten } = await sql.listen(
        channel,
        (payload) => {
          if (!accepts || accepts(payload)) this.wake();
        },
        // Runs on every (re)listen: catch up on what was committed while the listener was away.
        () => this.wake(),
      );
      this.unlisten = unlisten;
    } catch (error) {
      // The poll timer still does the work; LISTEN only makes it prompt.
      logger.warn({ err: (error as Error).message, loop: name }, "LISTEN failed; polling only");
    }
    this.wake();
  }

  /** Asks for a pass now (after `lingerMs`, when set). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    const linger = this.options.lingerMs ?? 0;
    if (linger > 0) {
      if (!this.lingering) {
        const done = Promise.withResolvers<void>();
        const timer = setTimeout(() => {
          this.lingering = undefined;
          this.run();
          done.resolve();
        }, linger);
        this.lingering = { timer, done: done.promise, cancel: done.resolve };
      }
      return;
    }
    this.run();
  }

  private run(): void {
    if (this.stopped || this.running) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Resolves when the pass in progress, and one waiting out its linger, are over. */
  async idle(): Promise<void> {
    while (this.running || this.lingering) await (this.running ?? this.lingering!.done);
  }

  /** Stops waking and waits for the pass in progress, so nothing is left half-done. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    if (this.lingering) {
      clearTimeout(this.lingering.timer);
      this.lingering.cancel();
      this.lingering = undefined;
    }
    await this.unlisten?.().catch(() => {});
    this.unlisten = undefined;
    await this.idle();
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped && (await this.options.pass()));
    } catch (error) {
      // Typically the database or broker being away: the work stays where it is for the next pass.
      this.options.logger.warn({ err: (error as Error).message, loop: this.options.name }, "background pass failed; will retry");
    }
  }
}
