import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { CONFIG_VARIABLES } from "./config.ts";

// .env.example is where a newcomer learns what can be set: every variable the configuration reads is there,
// with the default the shop really uses.
const text = await Bun.file(resolve(import.meta.dir, "../.env.example")).text();
/** `NAME=value` and `# NAME=value` lines: the variable and the value shown. */
const shown = new Map([...text.matchAll(/^(?:# )?([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));

describe(".env.example", () => {
  test("when the configuration reads a variable, then .env.example lists it", () => {
    const missing = CONFIG_VARIABLES.map((v) => v.name).filter((name) => !shown.has(name));
    expect(missing).toEqual([]);
  });

  test("when .env.example shows a value, then it is the shop's default for that variable", () => {
    const defaults = new Map(CONFIG_VARIABLES.map((v) => [v.name, v.default]));
    const wrong = [...shown]
      .filter(([name, value]) => value !== "" && value !== defaults.get(name))
      .map(([name, value]) => `${name}=${value} (default: ${defaults.get(name) ?? "none"})`);
    expect(wrong).toEqual([]);
  });

  test("when .env.example names a variable, then the configuration reads it", () => {
    const known = new Set(CONFIG_VARIABLES.map((v) => v.name));
    expect([...shown.keys()].filter((name) => !known.has(name))).toEqual([]);
  });
});
