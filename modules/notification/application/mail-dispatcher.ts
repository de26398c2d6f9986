import type { DatabaseHandle } from "../../../src/platform/db.ts";
import type { Logger } from "../../../src/platform/logger.ts";
import { NotifiedLoop } from "../../../src/platform/notified-loop.ts";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "../domain/delivery-policy.ts";
import { DEFAULT_ORDER_HOLD_MS } from "../domain/email-sequence.ts";
import type { MailSender, NotificationMetrics, NotificationRepository } from "../ports.ts";
import { deliverDueEmails } from "./deliver-due-emails.ts";

const FULL_PASS_EVERY_MS = 5_000;

export interface MailDispatcherOptions {
  database: DatabaseHandle;
  notifications: NotificationRepository;
  sender: MailSender;
  /** The From header of every e-mail (MAIL_FROM). */
  from: string;
  logger: Logger;
  metrics: NotificationMetrics;
  policy?: RetryPolicy;
  /** How long an e-mail waits for its order's earlier e-mail to be recorded (default 5 minutes). */
  holdMs?: number;
  /** How often due e-mails (retries, or ones whose NOTIFY was missed) are looked for. */
  pollMs?: number;
  /** How long a wake waits for more e-mails before its pass (default 50 ms). */
  lingerMs?: number;
  /** E-mails claimed and sent in parallel per pass (one SMTP connection each). */
  batchSize?: number;
}

/**
 * Sends the pending e-mails, outside any message transaction. Wakes on the NOTIFY a newly recorded
 * e-mail sends at commit, and on a poll timer for retries that fall due. Passes never overlap within
 * one instance, and row locks (SKIP LOCKED) keep several instances from sending the same e-mail.
 */
export class MailDispatcher {
  private readonly loop: NotifiedLoop;
  private lastFullPass = Number.NEGATIVE_INFINITY;
  private fullAgain = false;

  constructor(options: MailDispatcherOptions) {
    const { database, notifications, sender, from, logger, metrics } = options;
    const policy = options.policy ?? DEFAULT_RETRY_POLICY;
    const batchSize = options.batchSize ?? 10;
    const holdMs = options.holdMs ?? DEFAULT_ORDER_HOLD_MS;
    const deps = { db: database.db, notifications, sender, logger, metrics };
    const settings = { from, policy, holdMs };
    this.loop = new NotifiedLoop({
      name: "mail dispatcher",
      sql: database.sql,
      channel: notifications.announceChannel,
      pollMs: options.pollMs ?? 250,
      // An e-mail may wait 50 ms for the ones recorded just after it: under load one claim takes many, not one.
      lingerMs: options.lingerMs ?? 50,
      pass: async () => {
        // Mostly passes over what fell due just now; every few seconds (and while those find full batches) all of it.
        const full = this.fullAgain || performance.now() - this.lastFullPass >= FULL_PASS_EVERY_MS;
        if (full) this.lastFullPass = performance.now();
        const { claimed } = await deliverDueEmails(deps, settings, batchSize, full ? "all" : "recent");
        this.fullAgain = full && claimed === batchSize;
        return claimed === batchSize;
      },
      logger,
    });
  }

  start(): Promise<void> {
    return this.loop.start();
  }

  /** Asks for a delivery pass now. */
  wake(): void {
    this.loop.wake();
  }

  idle(): Promise<void> {
    return this.loop.idle();
  }

  /** Stops waking and waits for the pass in progress, so no e-mail is left half-recorded. */
  stop(): Promise<void> {
    return this.loop.stop();
  }
}
