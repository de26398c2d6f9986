/**
 * Checks the import rules of .dependency-cruiser.cjs (README: Architecture) over src/, modules/ and scripts/.
 *
 * Fails (exit 1) on any error-level violation, and also when the cruise found no TypeScript modules
 * at all: dependency-cruiser with a TypeScript it cannot drive "cruises 0 modules" and reports success,
 * which would let every rule pass silently.
 *
 * Usage: bun scripts/check-deps.ts [--json]   (--json prints dependency-cruiser's raw result)
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dir, "..");
const CONFIG = ".dependency-cruiser.cjs";
const TARGETS = ["src", "modules", "scripts", "drizzle.config.ts"].filter((p) => existsSync(join(root, p)));

interface Violation {
  type: string;
  from: string;
  to: string;
  rule: { name: string; severity: "error" | "warn" | "info" | "ignore" };
  cycle?: { name: string }[];
}

interface CruiseResult {
  modules: { source: string; coreModule?: boolean; couldNotResolve?: boolean }[];
  summary: {
    violations: Violation[];
    error: number;
    warn: number;
    info: number;
    totalCruised: number;
    totalDependenciesCruised: number;
    ruleSetUsed?: { forbidden?: { name: string; comment?: string }[] };
  };
}

// dependency-cruiser is a Node program (it drives the TypeScript compiler); run it under Node when there
// is one, so the result does not depend on Bun's Node compatibility. Fall back to Bun otherwise.
const runtime = Bun.which("node") ?? process.execPath;
const cli = join(root, "node_modules/dependency-cruiser/bin/dependency-cruise.mjs");
if (!existsSync(cli)) fail(`dependency-cruiser is not installed (${cli} missing): run \`npm ci\` first.`);

const child = Bun.spawnSync([runtime, cli, "--config", CONFIG, "--output-type", "json", ...TARGETS], {
  cwd: root,
  stdout: "pipe",
  stderr: "pipe",
});
const stdout = child.stdout.toString();
const stderr = child.stderr.toString();

let result: CruiseResult;
try {
  result = JSON.parse(stdout) as CruiseResult;
} catch {
  process.stderr.write(stderr);
  fail(`dependency-cruiser did not produce a result (exit code ${child.exitCode}).`);
}

if (process.argv.includes("--json")) console.log(JSON.stringify(result, null, 2));

const { summary } = result;
const comments = new Map((summary.ruleSetUsed?.forbidden ?? []).map((r) => [r.name, r.comment ?? ""]));
const tsModules = result.modules.filter((m) => !m.coreModule && !m.couldNotResolve && /^(src|modules|scripts)\/.+\.ts$/.test(m.source));

for (const severity of ["error", "warn"] as const) {
  const found = summary.violations.filter((v) => v.rule.severity === severity);
  if (found.length === 0) continue;
  console.log(`\n${severity === "error" ? "ERRORS" : "WARNINGS"} (${found.length}):`);
  const byRule = Map.groupBy(found, (v) => v.rule.name);
  for (const [rule, violations] of byRule) {
    console.log(`\n  ${severity} ${rule}: ${comments.get(rule) ?? ""}`);
    for (const v of violations) {
      const via = v.cycle?.length ? `  (cycle: ${[v.from, ...v.cycle.map((c) => c.name)].join(" → ")})` : "";
      console.log(`    ${v.from} → ${v.to}${via}`);
    }
  }
}

console.log(
  `\ndependency-cruiser: ${summary.totalCruised} modules (${tsModules.length} of ours in TypeScript), ` +
    `${summary.totalDependenciesCruised} dependencies cruised; ${summary.error} errors, ${summary.warn} warnings.`,
);

if (tsModules.length === 0) {
  fail(
    "no TypeScript module of src/, modules/ or scripts/ was cruised: dependency-cruiser cannot read TypeScript here " +
      "(is typescript ~5.9 installed?), so no rule was checked.",
  );
}
if (summary.error > 0) fail(`${summary.error} import rule violation(s): see above and .dependency-cruiser.cjs.`);
if (child.exitCode !== 0 && summary.error === 0) {
  process.stderr.write(stderr);
  fail(`dependency-cruiser exited with code ${child.exitCode}.`);
}
console.log("Import rules OK.");

function fail(message: string): never {
  console.error(`\ncheck-deps: FAILED — ${message}`);
  process.exit(1);
}
