import { afterEach, expect, test } from "bun:test";
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

// The append-only check as CI runs it (npm run lint:migrations), on the real drizzle/ and on altered copies of it.
const ROOT = resolve(import.meta.dir, "..");
const copies: string[] = [];
afterEach(() => {
  for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function copyOfDrizzle(): string {
  const dir = mkdtempSync(join(tmpdir(), "shop-migrations-"));
  copies.push(dir);
  cpSync(join(ROOT, "drizzle"), dir, { recursive: true });
  return dir;
}

function run(...args: string[]): { code: number; output: string } {
  const child = Bun.spawnSync([process.execPath, "scripts/check-migrations.ts", ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  return { code: child.exitCode, output: `${child.stdout.toString()}${child.stderr.toString()}` };
}

const journalOf = (dir: string, module: string) => join(dir, module, "meta/_journal.json");

test("when the committed drizzle folder is checked, then every migration matches its record and the check passes", () => {
  const result = run();
  expect(result.output).toContain("Migrations OK");
  expect(result.code).toBe(0);
});

test("when a recorded migration's SQL is edited, then the check fails naming the file and saying to add a new migration", () => {
  const dir = copyOfDrizzle();
  appendFileSync(join(dir, "orders/0000_init.sql"), '\nALTER TABLE "orders"."catalog" ADD COLUMN "colour" text;');
  const result = run("--dir", dir);
  expect(result.code).toBe(1);
  expect(result.output).toContain("drizzle/orders/0000_init.sql changed after it was recorded");
  expect(result.output).toContain("add a new migration instead: npm run db:generate -- --name <label> orders");
});

test("when a recorded migration is removed, then the check fails", () => {
  const dir = copyOfDrizzle();
  rmSync(join(dir, "inventory/0001_outbox_claim.sql"));
  const result = run("--dir", dir);
  expect(result.code).toBe(1);
  expect(result.output).toContain("drizzle/inventory/0001_outbox_claim.sql (recorded migration) was removed");
  expect(result.output).toContain("add a new migration");
});

test("when a recorded migration's journal `when` changes (a regenerated file), then the check fails", () => {
  const dir = copyOfDrizzle();
  const journal = JSON.parse(readFileSync(journalOf(dir, "notification"), "utf8"));
  journal.entries[0].when += 1;
  writeFileSync(journalOf(dir, "notification"), JSON.stringify(journal, null, 2));
  const result = run("--dir", dir);
  expect(result.code).toBe(1);
  expect(result.output).toContain("the `when` of 0000_init changed after it was recorded");
});

test("when a new migration is added, then the check fails until it is recorded, and recording refuses to rewrite a changed one", () => {
  const dir = copyOfDrizzle();
  const journal = JSON.parse(readFileSync(journalOf(dir, "orders"), "utf8"));
  const idx = journal.entries.length;
  const tag = `${String(idx).padStart(4, "0")}_colour`;
  journal.entries.push({ idx, version: "7", when: journal.entries.at(-1).when + 1000, tag, breakpoints: true });
  writeFileSync(journalOf(dir, "orders"), JSON.stringify(journal, null, 2));
  writeFileSync(join(dir, `orders/${tag}.sql`), 'ALTER TABLE "orders"."catalog" ADD COLUMN "colour" text;');

  const unrecorded = run("--dir", dir);
  expect(unrecorded.code).toBe(1);
  expect(unrecorded.output).toContain(`drizzle/orders/${tag}.sql is not recorded`);

  expect(run("--dir", dir, "--record").code).toBe(0);
  expect(run("--dir", dir).code).toBe(0);

  const lockBefore = readFileSync(join(dir, "migrations.lock.json"), "utf8");
  appendFileSync(join(dir, `orders/${tag}.sql`), "\n-- edited after recording");
  const rerecord = run("--dir", dir, "--record");
  expect(rerecord.code).toBe(1);
  expect(rerecord.output).toContain(`drizzle/orders/${tag}.sql changed after it was recorded`);
  expect(readFileSync(join(dir, "migrations.lock.json"), "utf8")).toBe(lockBefore);
});
