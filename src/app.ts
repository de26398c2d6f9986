import type { AnyElysia } from "elysia";
import { sql } from "drizzle-orm";
import type { Config, ModuleName } from "./config.ts";
import { migrateModule, openDatabase, waitForDatabase, type DatabaseHandle } from "./platform/db.ts";
import type { Logger } from "./platform/logger.ts";
import { Broker } from "./platform/messaging/broker.ts";
import { MessageConsumer } from "./platform/messaging/consumer.ts";
import { createOutbox } from "./platform/messaging/outbox.ts";
import { OutboxRelay } from "./platform/messaging/relay.ts";
import type { ModuleContext, ModuleDefinition, ShopModule } from "./platform/module.ts";
import type { RetentionPeriods, RetentionRule } from "./platform/retention/rule.ts";
import { RetentionSweeper } from "./platform/retention/sweeper.ts";
import { createHttpApp, drainHttp } from "./platform/http/server.ts";
import { inventoryModule } from "../modules/inventory/index.ts";
import { ordersModule } from "../modules/orders/index.ts";
import { notificationModule } from "../modules/notification/index.ts";
import packageJson from "../package.json" with { type: "json" };

/** Every module this binary knows; MODULES picks which of them run in this process. */
export const MODULES: Record<ModuleName, ModuleDefinition<any>> = {
  orders: ordersModule,
  inventory: inventoryModule,
  notification: notificationModule,
};

export interface Shop {
  config: Config;
  http: AnyElysia;
  database: DatabaseHandle;
  broker: Broker;
  modules: ShopModule[];
  /** Deletes what the retention periods let go, in the background. */
  sweeper: RetentionSweeper;
  /** Stops in order: HTTP intake → consumers (in-flight handlers finish) → relays and sweeper → broker → database. */
  stop(): Promise<void>;
}

function portsFor(name: ModuleName, config: Config): Record<string, unknown> {
  if (name === "notification") {
    return { mail: { smtpUrl: config.smtpUrl, from: config.mailFrom, holdMs: config.mailHoldMs, retryDelaysMs: config.mailRetryDelaysMs } };
  }
  return {};
}

function retentionPeriods(config: Config): RetentionPeriods {
  return { sentOutboxMs: config.outboxRetentionMs, inboxMs: config.inboxRetentionMs, sentEmailBodyMs: config.sentEmailBodyRetentionMs };
}

/** Opens the pools and builds the selected modules. No query yet: postgres.js connects on first use. */
export function openShop(config: Config, logger: Logger) {
  const name = `shop:${config.modules.join("+")}`;
  const pool = {
    prepare: config.databasePrepare,
    statementTimeoutMs: config.databaseStatementTimeoutMs,
    idleInTransactionTimeoutMs: config.databaseIdleInTransactionTimeoutMs,
  };
  const database = openDatabase(config.databaseUrl, { ...pool, max: config.databasePoolSize, applicationName: name });
  // Relays, the mail dispatcher and the retention sweeper: leases, "sent" marks and deletions of expired rows, all
  // redone when lost, never waiting on requests' pool. One connection for each loop (three relays, the mail
  // dispatcher, the sweeper): none waits for another's round trip.
  const background = openDatabase(config.databaseUrl, { ...pool, max: 5, applicationName: `${name}:background`, synchronousCommit: false });
  const context: ModuleContext = { database, background, logger, authSecret: config.authSecret };
  const modules = config.modules.map((name) =>
    MODULES[name].create({ ...context, logger: logger.child({ module: name }), ...portsFor(name, config) }),
  );
  const periods = retentionPeriods(config);
  const retention = config.modules.map((name): { name: string; rules: RetentionRule[] } => ({ name, rules: MODULES[name].retention?.(periods) ?? [] }));
  const close = async () => {
    await background.close();
    await database.close();
  };
  return { database, background, modules, retention, close };
}

/** Opens the database (creating and migrating it), builds the selected modules. No traffic yet. */
export async function prepare(config: Config, logger: Logger, signal?: AbortSignal) {
  await waitForDatabase(config.databaseUrl, logger, signal);
  const shop = openShop(config, logger);
  // Migrations on connections of their own, with no statement timeout: an index on a big table may take a while.
  const migrations = openDatabase(config.databaseUrl, { prepare: false, max: 2, applicationName: `shop:${config.modules.join("+")}:migrate` });
  try {
    for (const module of shop.modules) await migrateModule(migrations, module.name, module.migrationsFolder, module.supersededMigrations);
  } catch (error) {
    await shop.close();
    throw error;
  } finally {
    await migrations.close();
  }
  return shop;
}

/** Builds and starts the whole process: migrations, modules, messaging, HTTP routes (not yet listening). */
export async function startShop(config: Config, logger: Logger, options: { seed?: boolean; signal?: AbortSignal } = {}): Promise<Shop> {
  const { database, background, modules, retention, close } = await prepare(config, logger, options.signal);
  if (options.seed) for (const module of modules) await module.seed?.();
  for (const module of modules) await module.start?.();

  const broker = new Broker({ url: config.amqpUrl, prefix: config.amqpPrefix, logger, connectionName: `shop:${config.modules.join("+")}` });
  // Every module's queue exists whatever runs here, so events wait for a module started elsewhere or later.
  for (const definition of Object.values(MODULES)) {
    if (definition.consumes.length > 0 && !config.modules.includes(definition.name as ModuleName)) {
      broker.addTopology({ module: definition.name, routingKeys: definition.consumes.map((e) => e.name), retryDelaysMs: config.retryDelaysMs });
    }
  }
  const consumers = modules
    .filter((m) => m.handlers.length > 0)
    .map(
      (m) =>
        new MessageConsumer({
          module: m.name,
          database,
          inbox: m.inboxTable,
          outbox: createOutbox(m.outboxTable, m.name),
          handlers: m.handlers,
          broker,
          retryDelaysMs: config.retryDelaysMs,
          maxMessageAgeMs: config.inboxRetentionMs,
          logger: logger.child({ module: m.name }),
        }),
    );
  const relays = modules.map(
    (m) =>
      new OutboxRelay({
        module: m.name,
        database: background,
        table: m.outboxTable,
        publish: (envelope) => broker.publishEvent(envelope),
        canPublish: () => broker.connected,
        pollMs: config.outboxPollMs,
        logger: logger.child({ module: m.name }),
      }),
  );
  broker.onConnect(() => relays.forEach((r) => r.wake()));
  broker.start();
  for (const relay of relays) await relay.start();
  const sweeper = new RetentionSweeper({ sql: background.sql, modules: retention, intervalMs: config.retentionIntervalMs, logger: logger.child({ component: "retention" }) });
  sweeper.start();

  const http = createHttpApp({
    logger,
    authSecret: config.authSecret,
    version: packageJson.version,
    readiness: {
      postgres: async () => {
        await database.db.execute(sql`select 1`);
        return true;
      },
      rabbitmq: () => broker.connected,
      // A module whose queue has no subscription here handles nothing: not ready, whatever the connection says.
      ...Object.fromEntries(consumers.map((c) => [`${c.module}.consumer`, () => broker.isConsuming(broker.names.queue(c.module))])),
    },
  });
  for (const module of modules) if (module.routes) http.use(module.routes);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      const step = async (what: string, work: () => Promise<unknown>) => {
        logger.debug({ step: what }, "shutdown step");
        await work();
      };
      await step("http: stop accepting, finish in-flight requests", () => drainHttp(http, config.shutdownTimeoutMs / 2));
      await step("consumers: stop taking deliveries", () => broker.stopConsuming());
      await step("consumers: finish in-flight handlers", () => Promise.all(consumers.map((c) => c.idle())));
      await step("relays and retention sweeper: stop", () => Promise.all([...relays.map((r) => r.stop()), sweeper.stop()]));
      for (const module of modules) await step(`module ${module.name}: stop`, async () => module.stop?.());
      await step("broker: close", () => broker.stop());
      await step("database: close", close);
      logger.info("stopped");
    })());

  return { config, http, database, broker, modules, sweeper, stop };
}
