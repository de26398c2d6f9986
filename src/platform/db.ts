import postgres from "postgres";
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { getTableConfig, type PgTable } from "drizzle-orm/pg-core";
import type { Logger } from "./logger.ts";
import { classify, describeFailure, isTransient } from "./failures.ts";
import { retryForever } from "./retry.ts";
import {
  MIGRATIONS_SCHEMA,
  MigrationError,
  migrationsTable,
  readMigrationStatus,
  upgradeSupersededMigrations,
  type SupersededMigration,
} from "./migration-history.ts";

export type Sql = postgres.Sql;
export type Database = PostgresJsDatabase<Record<string, never>>;
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** Anything a query can run on: the pool or an open transaction. */
export type Executor = Database | Transaction;

export interface DatabaseHandle {
  sql: Sql;
  db: Database;
  close(): Promise<void>;
}

export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ""));
}

export function databaseAddress(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || "5432"}`;
}

export interface DatabaseOptions {
  max?: number;
  applicationName?: string;
  /**
   * Prepared statements (default true). Turn off only behind a pooler that cannot keep them, such as PgBouncer
   * before 1.21 in transaction mode: every statement is then parsed and planned afresh.
   */
  prepare?: boolean;
  /**
   * false: commits do not wait for the WAL flush (`synchronous_commit = off`). Only for writes that are redone
   * when lost — a crash of PostgreSQL can forget the last few hundred milliseconds of them.
   */
  synchronousCommit?: boolean;
  /** `statement_timeout` of every connection, in ms (0 or absent: none). */
  statementTimeoutMs?: number;
  /** `idle_in_transaction_session_timeout` of every connection, in ms (0 or absent: none). */
  idleInTransactionTimeoutMs?: number;
}

/** Opens the pool. postgres.js connects lazily, so nothing happens on the wire until the first query. */
export function openDatabase(url: string, options: DatabaseOptions = {}): DatabaseHandle {
  const sql = postgres(url, {
    max: options.max ?? 10,
    prepare: options.prepare ?? true,
    onnotice: () => {},
    // Fail fast when the server is gone instead of queueing requests behind a dead socket.
    connect_timeout: 5,
    // postgres.js waits this long (seconds) before reconnecting after a failure, up to 20 s by default:
    // after a database restart that would hold queries (and the LISTEN connection) back for no reason.
    backoff: (retries: number) => (0.5 + Math.random() / 2) * Math.min(0.1 * 2 ** retries, 2),
    idle_timeout: 30,
    connection: {
      application_name: options.applicationName ?? "shop",
      ...(options.synchronousCommit === false ? { synchronous_commit: "off" } : {}),
      ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
      ...(options.idleInTransactionTimeoutMs ? { idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs } : {}),
    },
  });
  const db = drizzle(preparedByDefault(sql)) as Database;
  return { sql, db, close: () => sql.end({ timeout: 5 }) };
}

/**
 * The client as drizzle should see it. drizzle sends a query as a prepared statement only when it was built
 * with `.prepare(name)`; otherwise postgres.js describes every parameterised query before binding it (two
 * round trips) and PostgreSQL parses and plans it afresh each time. Through this view every parameterised
 * query drizzle runs, in transactions and savepoints too, is a prepared statement that postgres.js keeps per
 * connection, keyed by its text. Queries without parameters (migrations, multi-statement scripts) go as they
 * are. `prepare: false` on the pool still wins (the pooler case).
 */
function preparedByDefault<T extends postgres.Sql | postgres.TransactionSql>(client: T): T {
  type Callback = (inner: postgres.TransactionSql) => unknown;
  const wrapLast = (args: unknown[]) => {
    const callback = args.at(-1) as Callback;
    return [...args.slice(0, -1), (inner: postgres.TransactionSql) => callback(preparedByDefault(inner))];
  };
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === "unsafe") {
        return (query: string, parameters?: unknown[], queryOptions?: postgres.UnsafeQueryOptions) =>
          target.unsafe(query, parameters as never, parameters?.length ? { ...queryOptions, prepare: true } : queryOptions);
      }
      if (property === "begin" || property === "savepoint") {
        const open = Reflect.get(target, property, receiver) as (...args: unknown[]) => unknown;
        return (...args: unknown[]) => open.apply(target, wrapLast(args));
      }
      return Reflect.get(target, property, receiver);
    },
  });
}

/**
 * The postgres.js client a drizzle executor runs on: the pool, or the connection of an open transaction.
 * Hot paths write their SQL with it — one statement where drizzle would need several, with no query
 * building per call — and stay in the caller's transaction.
 */
export function sqlOf(executor: Executor): Sql {
  return (executor as unknown as { session: { client: Sql } }).session.client;
}

/** `"schema"."table"` of a drizzle table, for SQL written by hand. */
export function qualifiedName(table: PgTable): string {
  const { schema, name } = getTableConfig(table);
  return `"${schema ?? "public"}"."${name}"`;
}

/** One SQL statement with its parameters, to run later. */
export interface Statement {
  text: string;
  params: unknown[];
}

/**
 * Data-modifying common table expressions (`name as (insert …)`, comma-separated, parameters numbered from $1)
 * for another part of the code to put in one statement with its own writes: PostgreSQL runs every such
 * expression to completion, atomically with the rest of the statement, whether or not anything reads it.
 */
export interface Writes {
  ctes: string;
  params: unknown[];
}

/** Runs `work` on the server's `postgres` maintenance database (the one named in the URL may not exist). */
async function onMaintenanceDatabase<T>(url: string, work: (sql: Sql) => Promise<T>): Promise<T> {
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const sql = postgres(admin.toString(), { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    return await work(sql);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Whether the database named in the URL exists. Creates nothing. */
export async function databaseExists(url: string): Promise<boolean> {
  const name = databaseName(url);
  return onMaintenanceDatabase(url, async (sql) => (await sql`select 1 from pg_database where datname = ${name}`).length > 0);
}

/** Creates the database named in the URL when it does not exist (connecting to the `postgres` maintenance database). */
export async function ensureDatabase(url: string): Promise<boolean> {
  const name = databaseName(url);
  return onMaintenanceDatabase(url, async (sql) => {
    const found = await sql`select 1 from pg_database where datname = ${name}`;
    if (found.length > 0) return false;
    try {
      await sql.unsafe(`create database "${name.replaceAll('"', '""')}"`);
      return true;
    } catch (error) {
      // Another instance created it between our check and our create: 42P04 when its create had
      // committed, 23505 (pg_database's unique name index) when both creates ran at the same time.
      const code = (error as { code?: string }).code;
      if (code === "42P04" || code === "23505") return false;
      throw error;
    }
  });
}

/**
 * Waits (forever, with backoff) until PostgreSQL answers, saying what is wrong and how to fix it meanwhile.
 * Creates the database when it is missing unless `create` is false; answers whether it exists.
 */
export async function waitForDatabase(url: string, logger: Logger, signal?: AbortSignal, options: { create?: boolean } = {}): Promise<boolean> {
  return retryForever(
    async () => (options.create === false ? databaseExists(url) : (await ensureDatabase(url), true)),
    (error, delayMs) =>
      logger.warn(
        `PostgreSQL is unreachable at ${databaseAddress(url)} (${describeFailure(error)}); ` +
          `start it (e.g. \`docker compose up -d postgres\`). Retrying in ${Math.round(delayMs / 1000)}s.`,
      ),
    signal,
  );
}

const MIGRATION_LOCK = 7_240_001; // any constant shared by every shop instance

/**
 * Applies one module's migrations (its own folder, its own bookkeeping table `drizzle.<module>_migrations`)
 * under a Postgres advisory lock, so several instances starting at once migrate one after another. A database
 * migrated by an earlier variant of a migration file (`superseded`) is first brought to today's file; a
 * database whose bookkeeping names a migration this build does not know is refused, unchanged. Every failure
 * is a MigrationError whose message names the module and says what to do.
 */
export async function migrateModule(
  handle: DatabaseHandle,
  module: string,
  migrationsFolder: string,
  superseded: readonly SupersededMigration[] = [],
): Promise<void> {
  const lock = await handle.sql.reserve();
  try {
    await lock`select pg_advisory_lock(${MIGRATION_LOCK})`;
    try {
      const status = await readMigrationStatus(handle.sql, module, migrationsFolder, superseded);
      await upgradeSupersededMigrations(handle.sql, status).catch((error) => {
        if (error instanceof MigrationError || isTransient(error)) throw error;
        const from = status.superseded.map((s) => `${s.variant.origin} → ${s.baseline.tag}`).join(", ");
        throw new MigrationError(module, `Module ${module}: upgrading the database's earlier migrations (${from}) failed, nothing was changed: ${errorText(error)}`);
      });
      // Bookkeeping lives outside the module schema so the generated `CREATE SCHEMA "<module>"` runs as written.
      await migrate(handle.db, { migrationsFolder, migrationsSchema: MIGRATIONS_SCHEMA, migrationsTable: migrationsTable(module) }).catch((error) => {
        if (isTransient(error)) throw error;
        const tags = status.pending.map((file) => file.tag).join(", ");
        throw new MigrationError(
          module,
          `Module ${module}: applying migration(s) ${tags || "(none pending)"} failed, none of them was applied (one transaction): ${errorText(error)}`,
        );
      });
    } finally {
      await lock`select pg_advisory_unlock(${MIGRATION_LOCK})`;
    }
  } finally {
    lock.release();
  }
}

/** The database's own words for a failed statement (drizzle wraps it in "Failed query: <whole SQL>"). */
function errorText(error: unknown): string {
  const { code, message } = classify(error);
  if (code && /^[0-9A-Z]{5}$/.test(code)) return `${message} (SQLSTATE ${code})`;
  return error instanceof Error ? error.message : String(error);
}
