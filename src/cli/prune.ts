import { parseArgs } from "node:util";
import { prepare } from "../app.ts";
import type { Config } from "../config.ts";
import type { Logger } from "../platform/logger.ts";
import { sweepModule, type ModuleSweep } from "../platform/retention/sweep.ts";

/**
 * `shop prune [--dry-run]`: one full retention sweep now, with the sweeper's own per-module locks, printing what it
 * removed per table. Exits 1 when another instance was sweeping a module (that module was skipped), 2 on bad usage.
 */
export async function prune(config: Config, logger: Logger, args: string[]): Promise<number> {
  let dryRun: boolean;
  try {
    dryRun = parseArgs({ args, options: { "dry-run": { type: "boolean", default: false } }, strict: true }).values["dry-run"];
  } catch (error) {
    console.error(`${(error as Error).message}\nusage: shop prune [--dry-run]`);
    return 2;
  }
  const { retention, close } = await prepare(config, logger);
  try {
    const swept: ModuleSweep[] = [];
    // Each module on its own database, under that database's lock for it.
    for (const { name, sql, rules } of retention) swept.push(await sweepModule(sql, name, rules, { dryRun }));
    console.log(formatPrune(swept, dryRun));
    return swept.some((m) => m.skipped) ? 1 : 0;
  } finally {
    await close();
  }
}

function formatPrune(swept: ModuleSweep[], dryRun: boolean): string {
  const lines = swept.flatMap((module) => {
    if (module.skipped) return [`${module.module}: skipped, another instance is sweeping it right now (try again later)`];
    return module.tables.map((t) => {
      const [verb, done] = t.action === "delete" ? ["delete", "deleted"] : ["clear", "cleared"];
      return `${t.table}: ${dryRun ? `would ${verb}` : done} ${t.rows} (${t.what})`;
    });
  });
  const total = swept.flatMap((m) => m.tables).reduce((sum, t) => sum + t.rows, 0);
  lines.push(dryRun ? `dry run: ${total} row(s) would be removed or cleared, nothing was changed` : `${total} row(s) removed or cleared`);
  return lines.join("\n");
}
