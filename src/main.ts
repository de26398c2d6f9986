#!/usr/bin/env bun
import { parseArgs } from "node:util";
import { ConfigError, DEVELOPMENT_AUTH_SECRET, loadConfig, MODULE_NAMES, type Config } from "./config.ts";
import { listDeadLetters, replayDeadLetters } from "./platform/messaging/dead-letters.ts";
import { prepare, startShop } from "./app.ts";
import { formatReport, runChecks } from "./check.ts";
import { prune } from "./cli/prune.ts";
import { mailCommand } from "./cli/mail.ts";
import { health } from "./cli/health.ts";
import { docsCommand } from "./cli/docs.ts";
import { commandUsage, helpRequested, isArgumentError } from "./cli/usage.ts";
import { createLogger, type Logger } from "./platform/logger.ts";
import { signToken } from "./platform/http/shop-tokens.ts";
import { MigrationError } from "./platform/migration-history.ts";

// Each command's entry here is also its `shop <command> --help`, and a command without one is unknown (src/cli/usage.ts).
const USAGE = `Usage: shop <command> [options]

Commands:
  serve                         start the HTTP API and the selected modules (default); with NODE_ENV=development
                                it also adds the demo catalog to an empty catalog
  migrate                       create the database if missing and apply every selected module's migrations
  seed                          migrate, then add the demo catalog when the catalog is empty
  token --sub ID --email ADDR [--admin] [--expires 12h]
                                print a signed JWT for development (uses AUTH_SECRET)
  check [--settle 60s]          verify the invariants (stock = open reservations, nothing negative, no order
                                stuck without its event, outboxes drain); exits 1 on any violation
  prune [--dry-run]             delete what the retention periods let go now (one sweep; --dry-run counts only)
  dlq list <module>             show the messages parked in a module's dead-letter queue, with the reason
  dlq replay <module> [--id MESSAGE_ID ...]
                                send parked messages back to the module's queue (all, or the given ids)
  mail retry [--id NOTIFICATION_ID ...]
                                put failed e-mails (all, or the given ids) back to pending with fresh attempts
  health [--timeout MS]         ask the shop running here (127.0.0.1:PORT) whether it is ready; prints the JSON,
                                exits 0 when ready or degraded, 1 otherwise (for container health checks)
  docs [--out FILE]             print the AsyncAPI 3.0 document of the events (as GET /docs/asyncapi.json serves
                                it, exchange names with AMQP_PREFIX), or write it to FILE; needs no database or broker
  help [COMMAND]                show this text, or one command's (as does shop COMMAND --help)

Configuration comes from the environment (see README): NODE_ENV (unset means production), PORT, DATABASE_URL (and
ORDERS_, INVENTORY_, NOTIFICATION_DATABASE_URL),
AMQP_URL, AMQP_PREFIX, MODULES, AUTH_SECRET, SMTP_URL, MAIL_FROM, LOG_LEVEL, RETRY_DELAYS_MS, OUTBOX_POLL_MS,
SHUTDOWN_TIMEOUT_MS.`;

async function main(argv: string[]): Promise<number> {
  const [command = "serve", ...rest] = argv;
  if (command === "help" || command === "--help" || command === "-h") {
    console.log((rest[0] && commandUsage(USAGE, rest[0])) || USAGE);
    return 0;
  }
  const usage = commandUsage(USAGE, command);
  if (usage === undefined) {
    console.error(`Unknown command "${command}".\n\n${USAGE}`);
    return 2;
  }
  if (helpRequested(rest)) {
    console.log(usage);
    return 0;
  }
  if (command === "serve" || command === "migrate" || command === "seed") parseArgs({ args: rest, strict: true }); // they take no arguments
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  const logger = createLogger(config.logLevel, { app: "shop" });

  switch (command) {
    case "serve":
      return serve(config, logger);
    case "migrate":
    case "seed": {
      const { modules, close } = await prepare(config, logger);
      try {
        if (command === "seed") for (const { module } of modules) await module.seed?.();
        logger.info({ modules: config.modules }, command === "seed" ? "migrated and seeded" : "migrated");
      } finally {
        await close();
      }
      return 0;
    }
    case "token":
      return token(config, rest);
    case "dlq":
      return dlq(config, rest);
    case "mail":
      return mailCommand(config, rest);
    case "check":
      return check(config, logger, rest);
    case "prune":
      return prune(config, logger, rest);
    case "health":
      return health(config, rest);
    case "docs":
      return docsCommand(config, rest);
    default:
      console.error(`Unknown command "${command}".\n\n${USAGE}`);
      return 2;
  }
}

async function token(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { sub: { type: "string" }, email: { type: "string" }, admin: { type: "boolean", default: false }, expires: { type: "string", default: "12h" } },
    strict: true,
  });
  if (!values.sub || !values.email) {
    console.error("token needs --sub and --email, e.g. shop token --sub alice --email alice@example.com [--admin]");
    return 2;
  }
  const role = values.admin ? "admin" : "customer";
  console.log(await signToken(config.authSecret, { sub: values.sub, email: values.email, role }, { expiresIn: values.expires }));
  return 0;
}

async function check(config: Config, logger: Logger, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { settle: { type: "string", default: "60s" } }, strict: true });
  const settleMs = parseDuration(values.settle);
  if (settleMs === undefined) {
    console.error(`--settle takes a duration such as 30s, 5m or 500ms (got ${JSON.stringify(values.settle)})`);
    return 2;
  }
  const report = await runChecks(config, logger, settleMs);
  console.log(formatReport(report));
  return report.ok ? 0 : 1;
}

function parseDuration(text: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h)$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as "ms" | "s" | "m" | "h"];
}

async function dlq(config: Config, args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args, options: { id: { type: "string", multiple: true } }, allowPositionals: true, strict: true });
  const [action, module] = positionals;
  if ((action !== "list" && action !== "replay") || !module || !(MODULE_NAMES as readonly string[]).includes(module)) {
    console.error(`usage: shop dlq list|replay <${MODULE_NAMES.join("|")}> [--id MESSAGE_ID ...]`);
    return 2;
  }
  const target = { amqpUrl: config.amqpUrl, prefix: config.amqpPrefix, module };
  if (action === "list") {
    const letters = await listDeadLetters(target);
    for (const letter of letters) console.log(JSON.stringify(letter));
    console.error(`${letters.length} message(s) parked in ${module}'s dead-letter queue`);
  } else {
    const replayed = await replayDeadLetters(target, values.id);
    for (const letter of replayed) console.log(JSON.stringify({ replayed: letter.messageId, event: letter.event }));
    console.error(`${replayed.length} message(s) sent back to ${module}'s queue`);
  }
  return 0;
}

async function serve(config: Config, logger: Logger): Promise<number> {
  const aborted = new AbortController();
  let shop: Awaited<ReturnType<typeof startShop>> | undefined;
  let exitCode = 0;
  const done = Promise.withResolvers<void>();

  const shutdown = (signal: string) => {
    if (aborted.signal.aborted) return;
    aborted.abort();
    logger.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, "graceful shutdown timed out; exiting");
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref?.();
    void (shop?.stop() ?? Promise.resolve())
      .catch((error) => {
        exitCode = 1;
        logger.error({ err: error }, "error during shutdown");
      })
      .finally(() => done.resolve());
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));

  if (config.authSecret === DEVELOPMENT_AUTH_SECRET) {
    logger.warn(
      { nodeEnv: config.nodeEnv },
      "AUTH_SECRET is the built-in development secret: anyone who has read the source can sign tokens for this shop. Set AUTH_SECRET (and NODE_ENV=production) before anyone else can reach it",
    );
  }
  try {
    // The demo catalog only on a developer's machine; anywhere else `shop seed` adds it on request.
    shop = await startShop(config, logger, { seed: config.nodeEnv === "development", signal: aborted.signal });
  } catch (error) {
    if (aborted.signal.aborted) return 0; // stopped while still waiting for the database
    throw error;
  }
  if (aborted.signal.aborted) {
    await shop.stop();
    return 0;
  }
  shop.http.listen({ port: config.port, hostname: "0.0.0.0" });
  const url = `http://localhost:${shop.http.server?.port ?? config.port}`;
  logger.info({ url, modules: config.modules }, "shop is serving");
  // For a person at a terminal; on stderr, so that stdout holds only JSON log lines.
  console.error(
    [
      ``,
      `  shop is up on ${url}  (modules: ${config.modules.join(", ")})`,
      `  API docs:     ${url}/docs   (OpenAPI JSON: ${url}/docs/json, events: ${url}/docs/asyncapi.json)`,
      `  Health:       ${url}/health/ready`,
      `  A token:      bun run shop token --sub alice --email alice@example.com [--admin]`,
      `                (or ./dist/shop token ... with the compiled binary)`,
      ``,
    ].join("\n"),
  );
  await done.promise;
  return exitCode;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    // A mistyped option (node:util parseArgs): what is wrong and the command's usage, as for an unknown command.
    if (isArgumentError(error)) {
      const command = process.argv[2] ?? "serve";
      console.error(`${error.message}\n\n${commandUsage(USAGE, command) ?? USAGE}`);
      process.exit(2);
    }
    // A migration that cannot run says why and what to do: its message is for the operator, a stack is not.
    console.error(error instanceof MigrationError ? error.message : error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
