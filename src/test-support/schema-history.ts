import { resolve } from "node:path";
import postgres from "postgres";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { MIGRATIONS_SCHEMA, migrationsTable } from "../platform/migration-history.ts";

/**
 * Databases as earlier commits of the shop left them. fixtures/schema-history/<commit>/<module>/ holds each
 * module's drizzle folder exactly as committed then (`git show <commit>:drizzle/<module>/…`): the commits at
 * which drizzle/orders/0000_init.sql was generated, regenerated and regenerated again.
 */
export const EARLIER_COMMITS = ["0c02003", "21a4218", "d7d0a7a"] as const;
export type EarlierCommit = (typeof EARLIER_COMMITS)[number];

const MODULES = ["orders", "inventory", "notification"] as const;

/** Migrates the database the way the shop at `commit` did: drizzle's migrator, same bookkeeping table. */
export async function migrateAsAt(url: string, commit: EarlierCommit): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    for (const module of MODULES) {
      const migrationsFolder = resolve(import.meta.dir, "fixtures/schema-history", commit, module);
      await migrate(drizzle(sql), { migrationsFolder, migrationsSchema: MIGRATIONS_SCHEMA, migrationsTable: migrationsTable(module) });
    }
  } finally {
    await sql.end();
  }
}

/**
 * The schema of the modules and the migration bookkeeping as the catalogs describe it, in a form two databases
 * can be compared by: columns (type, nullability, default), constraints (definition), indexes (definition),
 * and each module's bookkeeping rows (hash, `when`). Column order is not part of it: PostgreSQL appends a column
 * added later, and no query of the shop depends on the order.
 */
export async function describeSchema(sql: postgres.Sql): Promise<Record<string, string[]>> {
  const schemas = [...MODULES, MIGRATIONS_SCHEMA];
  const columns = await sql<{ line: string }[]>`
    select format('%s.%s.%s %s %s default %s', table_schema, table_name, column_name, format_type(a.atttypid, a.atttypmod),
                  case when is_nullable = 'YES' then 'null' else 'not null' end, coalesce(column_default, '-')) as line
    from information_schema.columns c
    join pg_attribute a on a.attrelid = format('%I.%I', table_schema, table_name)::regclass and a.attname = c.column_name
    where table_schema in ${sql(schemas)}
    order by 1`;
  const constraints = await sql<{ line: string }[]>`
    select format('%s.%s %s %s', n.nspname, r.relname, c.conname, pg_get_constraintdef(c.oid)) as line
    from pg_constraint c join pg_class r on r.oid = c.conrelid join pg_namespace n on n.oid = r.relnamespace
    where n.nspname in ${sql(schemas)}
    order by 1`;
  const indexes = await sql<{ line: string }[]>`
    select format('%s %s', schemaname, indexdef) as line from pg_indexes where schemaname in ${sql(schemas)} order by 1`;
  const bookkeeping: string[] = [];
  for (const module of MODULES) {
    const rows = await sql.unsafe<{ line: string }[]>(
      `select format('${module}: %s %s', hash, created_at) as line from ${MIGRATIONS_SCHEMA}.${migrationsTable(module)} order by id`,
    );
    bookkeeping.push(...rows.map((r) => r.line));
  }
  return {
    columns: columns.map((r) => r.line),
    constraints: constraints.map((r) => r.line),
    indexes: indexes.map((r) => r.line),
    bookkeeping,
  };
}
