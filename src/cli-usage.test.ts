import { afterAll, describe, expect, test } from "bun:test";
import { runCli, stopAllProcesses } from "./test-support/process.ts";

// The CLI as a person at a terminal meets it: help for every command, and a clear usage (exit 2, no stack trace)
// for a command or an option it does not know. None of it needs a configuration: these runs have an invalid one
// (production without AUTH_SECRET), on which any command that got as far as reading it would exit 2 with a
// configuration error instead.
afterAll(stopAllProcesses);

const NO_CONFIG = { NODE_ENV: "production", AUTH_SECRET: undefined, LOG_LEVEL: "silent" };
/** A valid configuration (the built-in secret is accepted under NODE_ENV=test) that no command below gets to use. */
const VALID = { NODE_ENV: "test", LOG_LEVEL: "silent" };

const COMMANDS = ["serve", "migrate", "seed", "token", "check", "prune", "dlq", "mail", "health", "docs"];
const STACK_FRAME = /^\s+at .+[:(]/m;

describe("shop <command> --help", () => {
  for (const command of COMMANDS) {
    test(`when ${command} --help is asked for, then it prints ${command}'s usage and exits 0, without reading the configuration`, async () => {
      const result = await runCli([command, "--help"], NO_CONFIG);
      expect(result.stdout).toStartWith(`Usage:\n  shop ${command}`);
      expect(result.stdout).not.toContain("Commands:");
      expect(result.stderr).not.toContain("Invalid configuration");
      expect(result.code).toBe(0);
    });
  }

  test("when token -h is asked for, then it prints the token's options", async () => {
    const result = await runCli(["token", "-h"], NO_CONFIG);
    expect(result.stdout).toContain("token --sub ID --email ADDR [--admin] [--expires 12h]");
    expect(result.code).toBe(0);
  });

  test("when help names a command, then it prints that command's usage (both of dlq's forms)", async () => {
    const result = await runCli(["help", "dlq"], NO_CONFIG);
    expect(result.stdout).toContain("dlq list <module>");
    expect(result.stdout).toContain("dlq replay <module>");
    expect(result.stdout).not.toContain("token");
    expect(result.code).toBe(0);
  });

  test("when help is asked for with no command, then it prints every command", async () => {
    const result = await runCli(["--help"], NO_CONFIG);
    for (const command of COMMANDS) expect(result.stdout).toContain(`\n  ${command}`);
    expect(result.code).toBe(0);
  });
});

describe("a command or an option the CLI does not know", () => {
  test("when the command is unknown, then it names it, prints the usage and exits 2", async () => {
    const result = await runCli(["nope"], NO_CONFIG);
    expect(result.stderr).toContain('Unknown command "nope"');
    expect(result.stderr).toContain("Commands:");
    expect(result.stderr).not.toContain("Invalid configuration");
    expect(result.code).toBe(2);
  });

  for (const args of [["token", "--bogus"], ["check", "--bogus"], ["docs", "--bogus"], ["docs", "--out"], ["dlq", "list", "orders", "--bogus"], ["token", "--sub"]]) {
    test(`when ${args.join(" ")} is run, then it says what is wrong, prints ${args[0]}'s usage and exits 2 without a stack trace`, async () => {
      const result = await runCli(args, VALID);
      expect(result.stderr).toContain(args.at(-1)!);
      expect(result.stderr).toContain(`Usage:\n  shop ${args[0]}`);
      expect(result.stderr).not.toMatch(STACK_FRAME);
      expect(result.code).toBe(2);
    });
  }

  for (const args of [["serve", "--port", "3001"], ["migrate", "orders"], ["seed", "--bogus"]]) {
    test(`when ${args.join(" ")} is run (the command takes no arguments), then it prints ${args[0]}'s usage and exits 2 before doing anything`, async () => {
      const result = await runCli(args, NO_CONFIG);
      expect(result.stderr).toContain(`Usage:\n  shop ${args[0]}`);
      expect(result.stderr).not.toContain("Invalid configuration");
      expect(result.stderr).not.toMatch(STACK_FRAME);
      expect(result.code).toBe(2);
    });
  }
});
