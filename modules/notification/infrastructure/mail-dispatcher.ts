import type { DatabaseHandle } from "../../../src/platform/db.ts";
import type { Logger } from "../../../src/platform/logger.ts";
import { deliverDueEmails } from "../application/deliver-due-emails.ts";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "../domain/delivery-policy.ts";
import type { MailSender } from "../ports.ts";
import { MAIL_CHANNEL, notificationRepository } from "./notification-repository.ts";

export interface MailDispatcherOptions {
  database: DatabaseHandle;
  sender: MailSender;
  /** The From header of every e-mail (MAIL_FROM). */
  from: string;
  logger: Logger;
  policy?: RetryPolicy;
  /** How often due e-mails (retries, or ones whose NOTIFY was missed) are looked for. */
  pollMs?: number;
  /** E-mails claimed and sent in parallel per pass (one SMTP connection each). */
  batchSize?: number;
}

/**
 * Sends the pending e-mails, outside any message transaction. Wakes on the NOTIFY a newly recorded
 * e-mail sends at commit, and on a poll timer for retries that fall due. Passes never overlap within
 * one instance, and row locks (SKIP LOCKED) keep several instances from sending the same e-mail.
 */
export class MailDispatcher {
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private unlisten: (() => Promise<void>) | undefined;
  private readonly policy: RetryPolicy;
  private readonly batchSize: number;

  constructor(private readonly options: MailDispatcherOptions) {
    this.policy = options.policy ?? DEFAULT_RETRY_POLICY;
    this.batchSize = options.batchSize ?? 10;
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.options.pollMs ?? 250);
    try {
      const { unlisten } = await this.options.database.sql.listen(
        MAIL_CHANNEL,
        () => this.wake(),
        // Runs on every (re)listen: catch up on what was committed while the listener was away.
        () => this.wake(),
      );
      this.unlisten = unlisten;
    } catch (error) {
      // The poll timer still delivers; LISTEN only makes it prompt.
      this.options.logger.warn({ err: (error as Error).message }, "mail LISTEN failed; polling only");
    }
    this.wake();
  }

  /** Asks for a delivery pass; a wake during a pass schedules one more right after it. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Resolves when the current pass (if any) is over. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops waking and waits for the pass in progress, so no e-mail is left half-recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.unlisten?.().catch(() => {});
    this.unlisten = undefined;
    await this.idle();
  }

  private async drain(): Promise<void> {
    const { database, sender, from, logger } = this.options;
    const deps = { db: database.db, repository: notificationRepository, sender, from, policy: this.policy, logger };
    try {
      while (!this.stopped) {
        const { claimed } = await deliverDueEmails(deps, this.batchSize);
        if (claimed < this.batchSize) return;
      }
    } catch (error) {
      // Typically the database being away: the e-mails stay pending and the next pass tries again.
      logger.warn({ err: (error as Error).message }, "mail delivery pass failed; will retry");
    }
  }
}
