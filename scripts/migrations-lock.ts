/**
 * The record of every migration ever committed: drizzle/migrations.lock.json holds, per module, each
 * migration's tag, its journal `when` and the sha256 of its SQL file — the same hash and timestamp drizzle's
 * migrator writes to a database's bookkeeping table (`hash`, `created_at`) and compares to decide what is applied.
 *
 * Migrations are append-only: once recorded, a file may not change, move or disappear, because databases that
 * ran it would never run the change (drizzle applies only migrations whose `when` is newer than the last applied
 * one) and a database migrated by the old text could no longer be told apart from an unknown schema.
 * `checkMigrations` lists every way the folder departs from the record; `recordMigrations` appends what is new.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const LOCK_FILE = "migrations.lock.json";

export interface RecordedMigration {
  tag: string;
  when: number;
  sha256: string;
}

export interface MigrationsLock {
  note: string;
  modules: Record<string, RecordedMigration[]>;
}

interface JournalEntry {
  tag: string;
  when: number;
}

const NOTE =
  "Every committed migration: its journal tag and `when`, and the sha256 of its SQL (what drizzle records in a database). " +
  "Append-only: npm run db:generate adds new entries, npm run lint:migrations fails when a recorded file changes.";

const addNew = (module: string) =>
  `add a new migration instead: npm run db:generate -- --name <label> ${module} (add --custom for hand-written SQL)`;

/** sha256 of a migration file, computed as drizzle-orm's migrator does (over the file read as a string). */
export function migrationHash(sql: string): string {
  return createHash("sha256").update(sql).digest("hex");
}

/** The module folders of a drizzle directory: every folder with a meta/_journal.json. */
function moduleFolders(drizzleDir: string): string[] {
  return readdirSync(drizzleDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(drizzleDir, entry.name, "meta/_journal.json")))
    .map((entry) => entry.name)
    .sort();
}

function readJournal(drizzleDir: string, module: string): JournalEntry[] {
  const journal = JSON.parse(readFileSync(join(drizzleDir, module, "meta/_journal.json"), "utf8")) as { entries: JournalEntry[] };
  return journal.entries;
}

/** What the folder holds now, per module, in journal order (a missing SQL file has no hash). */
function currentMigrations(drizzleDir: string): Record<string, (JournalEntry & { sha256?: string })[]> {
  const current: Record<string, (JournalEntry & { sha256?: string })[]> = {};
  for (const module of moduleFolders(drizzleDir)) {
    current[module] = readJournal(drizzleDir, module).map(({ tag, when }) => {
      const file = join(drizzleDir, module, `${tag}.sql`);
      return existsSync(file) ? { tag, when, sha256: migrationHash(readFileSync(file, "utf8")) } : { tag, when };
    });
  }
  return current;
}

export function readLock(drizzleDir: string): MigrationsLock {
  const path = join(drizzleDir, LOCK_FILE);
  if (!existsSync(path)) return { note: NOTE, modules: {} };
  return JSON.parse(readFileSync(path, "utf8")) as MigrationsLock;
}

/** Every departure from the record, each a sentence saying what is wrong and what to do. Empty = all good. */
export function checkMigrations(drizzleDir: string): string[] {
  const problems: string[] = [];
  const lock = readLock(drizzleDir);
  const current = currentMigrations(drizzleDir);

  for (const [module, recorded] of Object.entries(lock.modules)) {
    const now = current[module] ?? [];
    recorded.forEach((entry, index) => {
      const file = `drizzle/${module}/${entry.tag}.sql`;
      const found = now.find((m) => m.tag === entry.tag);
      if (!found) {
        problems.push(`${file} (recorded migration) is missing from drizzle/${module}/meta/_journal.json. Restore it; ${addNew(module)}.`);
      } else if (found.sha256 === undefined) {
        problems.push(`${file} (recorded migration) was removed. Restore it (git checkout -- ${file}); ${addNew(module)}.`);
      } else if (found.sha256 !== entry.sha256) {
        problems.push(
          `${file} changed after it was recorded (sha256 ${entry.sha256.slice(0, 12)}…, now ${found.sha256.slice(0, 12)}…). ` +
            `Databases that already ran it would never run the change. Restore it (git checkout -- ${file}); ${addNew(module)}.`,
        );
      } else if (found.when !== entry.when) {
        problems.push(
          `drizzle/${module}/meta/_journal.json: the \`when\` of ${entry.tag} changed after it was recorded (${entry.when}, now ${found.when}); ` +
            `drizzle decides what a database still needs from it. Restore it; ${addNew(module)}.`,
        );
      } else if (now.indexOf(found) !== index) {
        problems.push(`drizzle/${module}/meta/_journal.json: ${entry.tag} moved from position ${index} to ${now.indexOf(found)}. Restore the order; ${addNew(module)}.`);
      }
    });
  }

  for (const [module, entries] of Object.entries(current)) {
    const recorded = lock.modules[module] ?? [];
    entries.forEach((entry, index) => {
      if (index > 0 && entry.when <= entries[index - 1]!.when) {
        problems.push(
          `drizzle/${module}/meta/_journal.json: ${entry.tag} has a \`when\` (${entry.when}) not after ${entries[index - 1]!.tag}'s ` +
            `(${entries[index - 1]!.when}); drizzle would never apply it to a database that has the earlier one. Give it a later \`when\`.`,
        );
      }
      if (entry.sha256 === undefined && !recorded.some((r) => r.tag === entry.tag)) {
        problems.push(`drizzle/${module}/meta/_journal.json names ${entry.tag}, but drizzle/${module}/${entry.tag}.sql does not exist.`);
      }
      if (entry.sha256 !== undefined && !recorded.some((r) => r.tag === entry.tag)) {
        problems.push(`drizzle/${module}/${entry.tag}.sql is not recorded in drizzle/${LOCK_FILE}: record it with npm run lint:migrations -- --record (npm run db:generate does this).`);
      }
    });
    const journaled = new Set(entries.map((e) => `${e.tag}.sql`));
    const dir = join(drizzleDir, module);
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql") && !journaled.has(f))) {
      problems.push(`drizzle/${module}/${file} is not in drizzle/${module}/meta/_journal.json, so drizzle never runs it: remove it or regenerate it with npm run db:generate.`);
    }
  }
  return problems;
}

/**
 * Appends every migration that is not recorded yet. Refuses (returns the problems, writes nothing) when a
 * recorded one changed: recording never overwrites history.
 */
export function recordMigrations(drizzleDir: string): { added: string[]; problems: string[] } {
  const lock = readLock(drizzleDir);
  const problems = checkMigrations(drizzleDir).filter((p) => !p.includes("is not recorded in"));
  if (problems.length > 0) return { added: [], problems };
  const added: string[] = [];
  for (const [module, entries] of Object.entries(currentMigrations(drizzleDir))) {
    const recorded = (lock.modules[module] ??= []);
    for (const { tag, when, sha256 } of entries) {
      if (sha256 === undefined || recorded.some((r) => r.tag === tag)) continue;
      recorded.push({ tag, when, sha256 });
      added.push(`drizzle/${module}/${tag}.sql`);
    }
  }
  const sorted: MigrationsLock = { note: NOTE, modules: Object.fromEntries(Object.entries(lock.modules).sort(([a], [b]) => a.localeCompare(b))) };
  if (added.length > 0 || !existsSync(join(drizzleDir, LOCK_FILE))) writeFileSync(join(drizzleDir, LOCK_FILE), `${JSON.stringify(sorted, null, 2)}\n`);
  return { added, problems: [] };
}
