import type { AnyElysia } from "elysia";
import type { DatabaseHandle } from "./db.ts";
import type { Logger } from "./logger.ts";
import type { SupersededMigration } from "./migration-history.ts";
import type { EventHandler } from "./messaging/handler.ts";
import type { EventDefinition } from "./messaging/event.ts";
import type { InboxTable, OutboxTable } from "./messaging/tables.ts";
import type { RetentionPeriods, RetentionRule } from "./retention/rule.ts";

/** What every module hands to the composition root (src/app.ts). */
export interface ShopModule {
  name: string;
  /** drizzle-kit output for this module's own Postgres schema. */
  migrationsFolder: string;
  /** Earlier variants of its migration files that databases may have applied, with the SQL that upgrades each. */
  supersededMigrations?: readonly SupersededMigration[];
  /** The module's HTTP routes (an Elysia instance), if it has any. */
  routes?: AnyElysia;
  /** The events it consumes; none means it gets no queue. */
  handlers: EventHandler[];
  outboxTable: OutboxTable;
  inboxTable: InboxTable;
  /** Fills in demo data when the module's data is empty (idempotent). */
  seed?(): Promise<void>;
  /** Called once after migrations, before routes and consumers run. */
  start?(): Promise<void>;
  /** Called during graceful shutdown, after consumers stopped and before the database closes. */
  stop?(): Promise<void>;
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

/** What every module factory receives; modules add their own extra ports next to it. */
export interface ModuleContext {
  database: DatabaseHandle;
  /**
   * A small pool for background bookkeeping whose writes are redone when lost (leases, "sent" marks): its
   * commits do not wait for the WAL flush, and it never takes a connection from requests. Defaults to `database`.
   */
  background?: DatabaseHandle;
  logger: Logger;
  authSecret: string;
}

/**
 * A module as the composition root sees it before starting it. `consumes` is static so that every
 * process declares every module's queue and bindings — an event is kept for a module that runs in
 * another process (or has not started yet) instead of going unrouted.
 */
export interface ModuleDefinition<Ports = {}> {
  name: string;
  consumes: EventDefinition[];
  create(context: ModuleContext & Ports): ShopModule;
  /**
   * What the module stops keeping, and after how long: rules for its own tables only, given the configured
   * periods. The platform's sweeper (src/platform/retention/) applies them in the background and in `shop prune`.
   */
  retention?(periods: RetentionPeriods): RetentionRule[];
}
