import type { Database, Executor } from "../../src/platform/db.ts";
import type { Logger } from "../../src/platform/logger.ts";
import type { CountMetric } from "../../src/platform/metrics/module-metrics.ts";
import type { AfterFailure, DeliveryStatus } from "./domain/delivery-policy.ts";
import type { NewNotification, Notification, RetriedNotification } from "./domain/notification.ts";

/**
 * What the notification use cases need from the outside, in their own terms. infrastructure/ implements these
 * interfaces; index.ts hands the implementations to the use cases as `deps` (a `NotificationDeps`, or the part of
 * it a use case names). Use cases import only domain/, this file and src/platform/ (docs/architecture.md).
 */
export interface NotificationDeps {
  db: Database;
  notifications: NotificationRepository;
  sender: MailSender;
  logger: Logger;
  metrics: NotificationMetrics;
}

/** What notification counts about sending e-mails. */
export interface NotificationMetrics {
  /** E-mails the sender accepted. */
  sent: CountMetric;
  /** Attempts that failed and are tried again later. */
  attemptsFailed: CountMetric;
  /** E-mails given up on after their last attempt (status `failed`, waiting for `shop mail retry`). */
  failed: CountMetric;
}

/** The e-mails about orders, from recording to delivery. Every method runs on the executor it is given. */
export interface NotificationRepository {
  /** The channel a newly owed e-mail is announced on (at commit): a dispatcher listening there sends it at once. */
  readonly announceChannel: string;
  /** Stores the e-mails as `pending` and announces them; returns how many were new (a redelivery records nothing). */
  insertPending(tx: Executor, batch: readonly NewNotification[]): Promise<number>;
  /**
   * Takes up to `limit` due e-mails for `leaseMs` (no other dispatcher takes them meanwhile, no row lock held), in
   * their order's version sequence: one whose predecessor is not recorded yet waits up to `holdMs`, and two e-mails
   * of one order are never taken at once.
   */
  claimDue(db: Executor, limit: number, options: { leaseMs: number; holdMs: number; scope?: "recent" | "all" }): Promise<Notification[]>;
  markSent(db: Executor, ids: string[]): Promise<void>;
  /** Records a failed attempt: scheduled again after the policy's delay (counted from now), or given up. */
  recordFailure(tx: Executor, id: string, outcome: AfterFailure, error: string): Promise<void>;
  /** Failed e-mails (all, or those of `ids` that are failed) back to `pending` with no attempt used, due now; announced. */
  retryFailed(db: Executor, ids?: readonly string[]): Promise<RetriedNotification[]>;
  /** The status of each of these e-mails that exists. */
  statusesOf(db: Executor, ids: readonly string[]): Promise<Map<string, DeliveryStatus>>;
  /** How many e-mails are `failed`, and the oldest of them (by recording). */
  failedSummary(db: Executor): Promise<{ count: number; oldest?: Notification }>;
  /** Newest first; `beforeId` is the keyset cursor. */
  list(db: Executor, query: { orderId?: string; beforeId?: string; limit: number }): Promise<Notification[]>;
}

/** One e-mail as handed to a mail transport. */
export interface MailMessage {
  to: string;
  from: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * Hands an e-mail to whatever delivers mail (an SMTP server, or the log when none is configured).
 * Resolves once the message was accepted; rejects when it was not (the dispatcher retries later).
 */
export interface MailSender {
  send(message: MailMessage): Promise<{ messageId?: string }>;
}
