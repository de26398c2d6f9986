import type { Config } from "./config.ts";
import { databaseUrls, openShop } from "./app.ts";
import { databaseAddress, databaseName, waitForDatabase } from "./platform/db.ts";
import type { Logger } from "./platform/logger.ts";
import { countDeadLetters } from "./platform/messaging/dead-letters.ts";
import { checkOutboxDrains } from "./platform/messaging/outbox-check.ts";
import { describeMigrationStatus, readMigrationStatus } from "./platform/migration-history.ts";
import type { InvariantCheck } from "./platform/module.ts";

export interface CheckReport {
  checks: InvariantCheck[];
  /** Messages parked per module: not a broken invariant, but events waiting for an operator. */
  deadLetters: Record<string, number | string>;
  /** Information per module (e.g. failed e-mails): work waiting for an operator, not a broken invariant. */
  notes: Record<string, string[]>;
  ok: boolean;
}

/**
 * `shop check`: the reconciliation run against the live data of the selected modules — stock matches
 * reservations, nothing negative, no order stuck without its event, no outbox that does not drain.
 * Each module is checked in its own database. Read-only: a missing database or a module schema that is not up to
 * date is reported, never created or migrated (that module's invariants are then not checked: their queries assume
 * today's schema).
 */
export async function runChecks(config: Config, logger: Logger, settleMs: number): Promise<CheckReport> {
  const checks: InvariantCheck[] = [];
  const missing = new Set<string>();
  for (const url of databaseUrls(config)) {
    if (await waitForDatabase(url, logger, undefined, { create: false })) continue;
    missing.add(url);
    const modules = config.modules.filter((name) => config.moduleDatabaseUrls[name] === url).join(", ");
    const where = databaseUrls(config).length > 1 ? ` (the database of ${modules})` : "";
    const violation = `database "${databaseName(url)}"${where} does not exist at ${databaseAddress(url)}: create and migrate it with \`shop migrate\``;
    checks.push({ name: "database exists", violations: [violation] });
  }
  if (missing.size === databaseUrls(config).length) return { checks, deadLetters: {}, notes: {}, ok: false };

  const present = { ...config, modules: config.modules.filter((name) => !missing.has(config.moduleDatabaseUrls[name])) };
  const { modules, close } = openShop(present, logger);
  try {
    const deadLetters: CheckReport["deadLetters"] = {};
    const notes: CheckReport["notes"] = {};
    for (const { module, database } of modules) {
      const status = await readMigrationStatus(database.sql, module.name, module.migrationsFolder, module.supersededMigrations);
      const schema: InvariantCheck = { name: `${module.name}: database schema is up to date`, violations: describeMigrationStatus(status) };
      checks.push(schema);
      if (schema.violations.length === 0) {
        checks.push(await checkOutboxDrains(database.db, module.name, module.outboxTable, settleMs));
        checks.push(...((await module.check?.({ settleMs })) ?? []));
        if (module.notes) notes[module.name] = await module.notes();
      }
      if (module.handlers.length > 0) {
        deadLetters[module.name] = await countDeadLetters({ amqpUrl: config.amqpUrl, prefix: config.amqpPrefix, module: module.name }).catch(
          (error: Error) => `unknown (${error.message})`,
        );
      }
    }
    return { checks, deadLetters, notes, ok: checks.every((c) => c.violations.length === 0) };
  } finally {
    await close();
  }
}

export function formatReport(report: CheckReport): string {
  const lines = report.checks.flatMap((check) => [
    `${check.violations.length === 0 ? "ok  " : "FAIL"}  ${check.name}`,
    ...check.violations.slice(0, 20).map((v) => `        - ${v}`),
    ...(check.violations.length > 20 ? [`        ... and ${check.violations.length - 20} more`] : []),
  ]);
  for (const [module, parked] of Object.entries(report.deadLetters)) {
    lines.push(`info  ${module}: ${parked} message(s) parked in the dead-letter queue${parked ? " (shop dlq list " + module + ")" : ""}`);
  }
  for (const [module, texts] of Object.entries(report.notes)) for (const text of texts) lines.push(`info  ${module}: ${text}`);
  lines.push(report.ok ? "all invariants hold" : `${report.checks.filter((c) => c.violations.length > 0).length} invariant(s) violated`);
  return lines.join("\n");
}
