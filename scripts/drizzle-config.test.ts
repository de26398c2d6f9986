import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { MIGRATIONS_SCHEMA, migrationsTable } from "../src/platform/migration-history.ts";

// drizzle-kit (migrate, check) must look for a module's applied migrations where the shop's migrator keeps them.
const root = resolve(import.meta.dir, "..");

describe("drizzle.config.ts", () => {
  for (const module of ["orders", "inventory", "notification"]) {
    test(`when drizzle-kit runs for ${module}, then its migrations table is the one the shop's migrator writes`, () => {
      const read = Bun.spawnSync([process.execPath, "-e", 'console.log(JSON.stringify((await import("./drizzle.config.ts")).default.migrations))'], {
        cwd: root,
        env: { ...process.env, DRIZZLE_MODULE: module },
        stdout: "pipe",
        stderr: "pipe",
      });
      expect(read.exitCode, read.stderr.toString()).toBe(0);
      expect(JSON.parse(read.stdout.toString())).toEqual({ schema: MIGRATIONS_SCHEMA, table: migrationsTable(module) });
    });
  }
});
