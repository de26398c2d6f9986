import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

// The compiled binary, as it ships: started in a directory of its own, it runs on its environment alone.
const root = resolve(import.meta.dir, "..");
const work = mkdtempSync(join(tmpdir(), "shop-build-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the compiled binary", () => {
  test("when its working directory holds a .env saying NODE_ENV=development, then it ignores it and still refuses the built-in secret", async () => {
    const binary = join(work, "shop");
    const build = Bun.spawnSync([process.execPath, "scripts/build.ts", "--outfile", binary], { cwd: root, stdout: "pipe", stderr: "pipe" });
    expect(build.exitCode, build.stderr.toString()).toBe(0);
    writeFileSync(join(work, ".env"), "NODE_ENV=development\nLOG_LEVEL=silent\n");
    const { NODE_ENV: _nodeEnv, AUTH_SECRET: _secret, ...env } = process.env;
    const run = Bun.spawnSync([binary, "token", "--sub", "mallory", "--email", "mallory@example.com"], { cwd: work, env, stdout: "pipe", stderr: "pipe" });
    expect(run.stdout.toString()).toBe("");
    expect(run.stderr.toString()).toContain("AUTH_SECRET: the built-in development secret is refused unless NODE_ENV is development or test (NODE_ENV is unset");
    expect(run.exitCode).toBe(2);
  }, 120_000);
});
