import type { AnyElysia } from "elysia";
import type { DatabaseHandle } from "./db.ts";
import type { Authenticator } from "./http/authenticator.ts";
import type { Logger } from "./logger.ts";
import type { ModuleMetrics } from "./metrics/module-metrics.ts";
import type { SupersededMigration } from "./migration-history.ts";
import type { EventHandler } from "./messaging/handler.ts";
import type { EventDefinition } from "./messaging/event.ts";
import type { InboxTable, OutboxTable } from "./messaging/tables.ts";
import type { RetentionPeriods, RetentionRule } from "./retention/rule.ts";

/**
 * Something that runs in the background of a process between start and stop: a module's outbox relay and
 * consumer (which the platform makes from what the module declares) and the module's own loops.
 */
export interface BackgroundLoop {
  start(): Promise<void>;
  /** Takes no further work, lets the work in progress finish. */
  stop(): Promise<void>;
}

/**
 * What a module hands to the composition root (src/app.ts), which wires it without knowing what is inside: the
 * platform makes its outbox writer, consumer (with its inbox) and relay from the tables and handlers declared
 * here, runs its migrations against the module's own database, starts and stops its loops.
 */
export interface ShopModule {
  name: string;
  /** drizzle-kit output for this module's own Postgres schema. */
  migrationsFolder: string;
  /** Earlier variants of its migration files that databases may have applied, with the SQL that upgrades each. */
  supersededMigrations?: readonly SupersededMigration[];
  /** The module's HTTP routes (an Elysia instance), if it has any. */
  routes?: AnyElysia;
  /** The events it consumes; none means it gets no consumer. */
  handlers: EventHandler[];
  /** Its transactional outbox, in its own schema: the platform relays it to RabbitMQ. */
  outboxTable: OutboxTable;
  /** Its inbox, in its own schema: the platform's consumer records every message it applied there. */
  inboxTable: InboxTable;
  /** Its own background loops (e.g. a mail dispatcher): started after migrations, stopped after the consumers. */
  loops?: BackgroundLoop[];
  /**
   * Ends the long-lived answers its routes hold open (event streams) and refuses new ones: called first on stop, so
   * the HTTP drain, which waits for every answer in flight, does not wait for them until its deadline.
   */
  closeStreams?(): Promise<void>;
  /** Fills in demo data when the module's data is empty (idempotent). */
  seed?(): Promise<void>;
  /** The module's invariants for `shop check`; `settleMs` is how long in-flight work may take. */
  check?(options: { settleMs: number }): Promise<InvariantCheck[]>;
  /** What `shop check` prints as information, not as a violation: work that waits for an operator. */
  notes?(): Promise<string[]>;
}

/** One invariant `shop check` verified: what it is and every violation found (none = holds). */
export interface InvariantCheck {
  name: string;
  violations: string[];
}

/** What every module factory receives, whatever the module. */
export interface BaseModuleContext {
  /** The pool for requests and event handlers, on the module's own database. */
  database: DatabaseHandle;
  /**
   * A small pool on the same database for background bookkeeping whose writes are redone when lost (leases, "sent"
   * marks): its commits do not wait for the WAL flush, and it never takes a connection from requests. Defaults to
   * `database`.
   */
  background?: DatabaseHandle;
  logger: Logger;
  /** Checks the bearer tokens of the module's routes: one per process, shared by every module and the root app. */
  authenticator: Authenticator;
  /** Where the module counts and times what it does (orders placed, e-mails sent); the process serves them at /metrics. */
  metrics: ModuleMetrics;
}

/** The context plus the module's own settings (read for it from the configuration); none when it needs none. */
export type ModuleContext<Settings = undefined> = BaseModuleContext & (undefined extends Settings ? { settings?: Settings } : { settings: Settings });

/**
 * A module as the composition root sees it before starting it. `consumes` is static so that every
 * process declares every module's queue and bindings — an event is kept for a module that runs in
 * another process (or has not started yet) instead of going unrouted.
 */
export interface ModuleDefinition<Settings = undefined> {
  name: string;
  /** The events it publishes: those its contract.ts defines. The AsyncAPI document names the module as their sender. */
  publishes: readonly EventDefinition[];
  consumes: readonly EventDefinition[];
  create(context: ModuleContext<Settings>): ShopModule;
  /**
   * What the module stops keeping, and after how long: rules for its own tables only, given the configured
   * periods. The platform's sweeper (src/platform/retention/) applies them in the background and in `shop prune`.
   */
  retention?(periods: RetentionPeriods): RetentionRule[];
}
