/**
 * What PostgreSQL says about the shop's database: transactions (pg_stat_database) and statements
 * (pg_stat_statements), as differences between two readings (pg_stat_statements_reset() can't be scoped to
 * one database). The bench's own queries in that database are tagged and counted, and taken out.
 *
 * pg_stat_database is flushed by each backend at most once a second while it is busy, and by an idle one
 * up to 10 s later: a reading right after a phase may lack up to ~1 s of the last activity of each
 * connection. pg_stat_statements is counted at once; its BEGIN calls are the transaction blocks.
 */
import postgres from "postgres";
import { PG_ADMIN_URL, run } from "./context.ts";

const TAG = "/* bench-stats */";

/** One connection to the shop's database for the bench's own queries (backlog, readings), counted. */
export class ShopDb {
  private readonly sql: postgres.Sql;
  /** Queries sent so far: each is one transaction the shop did not make. */
  queries = 0;

  constructor(url: string) {
    this.sql = postgres(url, { max: 1, onnotice: () => {}, fetch_types: false, connect_timeout: 10 });
    run.closers.push(() => this.sql.end({ timeout: 5 }));
  }

  /** Runs `text` tagged, and asks this backend to flush its statistics at once (so its counts never lag). */
  async query<T extends object>(text: string): Promise<T[]> {
    this.queries += 1;
    const rows = await this.sql.unsafe(`${TAG} with bench_rows as (${text}) select bench_rows.*, pg_stat_force_next_flush() is null as flushed from bench_rows`);
    return rows as unknown as T[];
  }

  /** Untagged, uncounted: for setup before anything is measured. */
  async setup(text: string): Promise<void> {
    await this.sql.unsafe(text);
  }
}

export interface StatementCount {
  calls: number;
  query: string;
}

export interface PgReading {
  at: number;
  benchQueries: number;
  xacts: number;
  /** queryid → calls and text; null when pg_stat_statements cannot be read. */
  statements: Map<string, StatementCount> | null;
}

export interface PgDelta {
  /** pg_stat_database xact_commit + xact_rollback, the bench's own taken out. */
  xacts: number;
  /** Sum of pg_stat_statements calls (BEGIN and COMMIT/ROLLBACK included), the bench's own left out; null: n/a. */
  statements: number | null;
  /** BEGIN calls: the explicit transaction blocks. */
  txBlocks: number | null;
  /** Statements by calls during the phase, most first. */
  top: StatementCount[];
}

/** pg_stat_statements in the shop's database: "" when usable, else why not (printed as n/a). */
export async function enableStatements(db: ShopDb): Promise<string> {
  try {
    await db.setup("create extension if not exists pg_stat_statements");
    await db.setup("select 1 from pg_stat_statements limit 1");
    return "";
  } catch (error) {
    return (error as Error).message;
  }
}

export async function readPg(db: ShopDb, withStatements: boolean): Promise<PgReading> {
  const benchQueries = db.queries;
  const [row] = await db.query<{ xacts: string }>(
    "select (xact_commit + xact_rollback)::text as xacts from pg_stat_database where datname = current_database()",
  );
  let statements: Map<string, StatementCount> | null = null;
  if (withStatements) {
    const rows = await db.query<{ id: string; calls: number; query: string }>(
      `select queryid::text || ':' || toplevel::text as id, calls::float8 as calls, query from pg_stat_statements
       where dbid = (select oid from pg_database where datname = current_database())`,
    );
    statements = new Map(rows.filter((r) => !r.query.includes(TAG) && !r.query.includes("bench_rows")).map((r) => [r.id, { calls: r.calls, query: r.query }]));
  }
  return { at: performance.now(), benchQueries, xacts: Number(row?.xacts ?? Number.NaN), statements };
}

const oneLine = (query: string, max = 100) => {
  const flat = query.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

const TX_START = /^\s*(begin|start\s+transaction)\b/i;
const TX_END = /^\s*(commit|rollback|end|abort)\b/i;

/**
 * postgres.js sends BEGIN as a simple query but COMMIT and ROLLBACK as prepared statements, which
 * pg_stat_statements counts once per connection only: the transaction blocks are the BEGIN calls, and each
 * stands for one COMMIT or ROLLBACK in the statement count (the recorded COMMIT/ROLLBACK calls are left out).
 */
export function pgDelta(before: PgReading, after: PgReading): PgDelta {
  const xacts = after.xacts - before.xacts - (after.benchQueries - before.benchQueries);
  if (!before.statements || !after.statements) return { xacts, statements: null, txBlocks: null, top: [] };
  const byText = new Map<string, number>(); // the same text under two queryids (e.g. other parameter types) shown once
  for (const [id, now] of after.statements) {
    const calls = now.calls - (before.statements.get(id)?.calls ?? 0);
    if (calls > 0 && !TX_END.test(now.query)) byText.set(now.query, (byText.get(now.query) ?? 0) + calls);
  }
  const changed: StatementCount[] = [...byText].map(([query, calls]) => ({ calls, query }));
  const txBlocks = changed.filter((s) => TX_START.test(s.query)).reduce((n, s) => n + s.calls, 0);
  if (txBlocks > 0) changed.push({ calls: txBlocks, query: "commit / rollback (one per begin)" });
  changed.sort((a, b) => b.calls - a.calls);
  const statements = changed.reduce((n, s) => n + s.calls, 0);
  return { xacts, statements, txBlocks, top: changed.slice(0, 10).map((s) => ({ calls: s.calls, query: oneLine(s.query) })) };
}

export async function serverVersion(): Promise<string> {
  const sql = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ server_version: string }[]>`show server_version`;
    return row?.server_version.split(" ")[0] ?? "?";
  } catch {
    return "?";
  } finally {
    await sql.end({ timeout: 5 });
  }
}
