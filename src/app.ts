import type { AnyElysia } from "elysia";
import { MODULE_NAMES, moduleSettings, type Config, type ModuleName, type ModuleSettings } from "./config.ts";
import { openDatabasePools } from "./platform/database-pools.ts";
import { migrateModule, openDatabase, waitForDatabase, type DatabaseHandle } from "./platform/db.ts";
import type { Logger } from "./platform/logger.ts";
import { Broker } from "./platform/messaging/broker.ts";
import type { MessageConsumer } from "./platform/messaging/consumer.ts";
import { asyncApiDocument } from "./platform/messaging/asyncapi.ts";
import { moduleMessaging } from "./platform/messaging/module-messaging.ts";
import { messagingMetrics } from "./platform/metrics/messaging-metrics.ts";
import { moduleMetrics } from "./platform/metrics/module-metrics.ts";
import { createMetricsRegistry, type Registry } from "./platform/metrics/registry.ts";
import { consumerGauge, outboxGauges, queueGauges } from "./platform/metrics/scrape-gauges.ts";
import type { BackgroundLoop, ModuleDefinition, ShopModule } from "./platform/module.ts";
import type { RetentionPeriods } from "./platform/retention/rule.ts";
import type { RetentionModule } from "./platform/retention/sweeper.ts";
import { RetentionSweeper } from "./platform/retention/sweeper.ts";
import { createAuthenticator, type Authenticator } from "./platform/http/authenticator.ts";
import { createHttpApp, drainHttp } from "./platform/http/server.ts";
import { startTracing, type Tracing } from "./platform/tracing/setup.ts";
import { inventoryModule } from "../modules/inventory/index.ts";
import { ordersModule } from "../modules/orders/index.ts";
import { notificationModule } from "../modules/notification/index.ts";
import packageJson from "../package.json" with { type: "json" };

/** Every module this binary knows, each with the settings it reads; MODULES picks which of them run in this process. */
export const MODULES: { [M in ModuleName]: ModuleDefinition<ModuleSettings[M]> } = {
  orders: ordersModule,
  inventory: inventoryModule,
  notification: notificationModule,
};

/** The AsyncAPI document of every module's events, with this deployment's exchange names (GET /docs/asyncapi.json, `shop docs`). */
export function eventsDocument(amqpPrefix: string) {
  return asyncApiDocument({ modules: Object.values(MODULES), amqpPrefix, version: packageJson.version });
}

export interface Shop {
  config: Config;
  http: AnyElysia;
  /** The requests' pool of the database a module of this process lives in. */
  databaseOf(module: ModuleName): DatabaseHandle;
  broker: Broker;
  modules: ShopModule[];
  /** This process's metrics, served at GET /metrics. */
  metrics: Registry;
  /** Deletes what the retention periods let go, in the background. */
  sweeper: RetentionSweeper;
  /**
   * Stops in order: event streams → HTTP intake → consumers (in-flight handlers finish) → relays and sweeper → module loops → broker →
   * databases → tracing (the last spans are exported).
   */
  stop(): Promise<void>;
}

function retentionPeriods(config: Config): RetentionPeriods {
  return { sentOutboxMs: config.outboxRetentionMs, inboxMs: config.inboxRetentionMs, sentEmailBodyMs: config.sentEmailBodyRetentionMs };
}

/** The databases the selected modules live in, each once. */
export function databaseUrls(config: Config): string[] {
  return [...new Set(config.modules.map((name) => config.moduleDatabaseUrls[name]))];
}

function createModule<M extends ModuleName>(
  name: M,
  config: Config,
  database: DatabaseHandle,
  background: DatabaseHandle,
  logger: Logger,
  metrics: Registry,
  authenticator: Authenticator,
): ShopModule {
  const definition: ModuleDefinition<ModuleSettings[M]> = MODULES[name];
  return definition.create({
    database,
    background,
    logger,
    authenticator,
    metrics: moduleMetrics(metrics, name),
    settings: moduleSettings(config, name),
  });
}

/**
 * Opens one pool pair per database the selected modules live in and builds the modules, each on its own database.
 * No query yet: postgres.js connects on first use.
 */
export function openShop(config: Config, logger: Logger, metrics: Registry = createMetricsRegistry({ processMetrics: false })) {
  const pools = openDatabasePools(databaseUrls(config), {
    max: config.databasePoolSize,
    applicationName: `shop:${config.modules.join("+")}`,
    prepare: config.databasePrepare,
    statementTimeoutMs: config.databaseStatementTimeoutMs,
    idleInTransactionTimeoutMs: config.databaseIdleInTransactionTimeoutMs,
  });
  const poolsOf = (name: ModuleName) => pools.of(config.moduleDatabaseUrls[name]);
  // One per process: the root app and every module check tokens with it (one key set fetch, one verified-token cache).
  const authenticator = createAuthenticator({ secret: config.authSecret, idp: config.idp });
  const modules = config.modules.map((name) => {
    const { database, background } = poolsOf(name);
    const module = createModule(name, config, database, background, logger.child({ module: name }), metrics, authenticator);
    return { name, module, database, background };
  });
  const periods = retentionPeriods(config);
  const retention = config.modules.map((name): RetentionModule => ({ name, sql: poolsOf(name).background.sql, rules: MODULES[name].retention?.(periods) ?? [] }));
  return {
    pools,
    /** The requests' pool of a selected module's database. */
    databaseOf: (name: ModuleName) => poolsOf(name).database,
    /** Each selected module with the pools of its database. */
    modules,
    retention,
    metrics,
    authenticator,
    close: () => pools.close(),
  };
}

/** Opens the databases (creating and migrating them), builds the selected modules. No traffic yet. */
export async function prepare(config: Config, logger: Logger, signal?: AbortSignal, metrics?: Registry) {
  for (const url of databaseUrls(config)) await waitForDatabase(url, logger, signal);
  const shop = openShop(config, logger, metrics);
  try {
    for (const url of databaseUrls(config)) {
      // Migrations on connections of their own, with no statement timeout: an index on a big table may take a while.
      const migrations = openDatabase(url, { prepare: false, max: 2, applicationName: `shop:${config.modules.join("+")}:migrate` });
      try {
        for (const { name, module } of shop.modules) {
          if (config.moduleDatabaseUrls[name] === url) await migrateModule(migrations, module.name, module.migrationsFolder, module.supersededMigrations);
        }
      } finally {
        await migrations.close();
      }
    }
  } catch (error) {
    await shop.close();
    throw error;
  }
  return shop;
}

/** Builds and starts the whole process: migrations, modules, messaging, HTTP routes (not yet listening). */
export async function startShop(config: Config, logger: Logger, options: { seed?: boolean; signal?: AbortSignal } = {}): Promise<Shop> {
  // Before anything makes a span or an envelope; with no endpoint nothing of the SDK is set up (README: Tracing).
  const tracing = config.otlpEndpoint
    ? startTracing({ endpoint: config.otlpEndpoint, serviceVersion: packageJson.version, modules: config.modules })
    : undefined;
  try {
    return await startTracedShop(config, logger, options, tracing);
  } catch (error) {
    await tracing?.shutdown();
    throw error;
  }
}

async function startTracedShop(
  config: Config,
  logger: Logger,
  options: { seed?: boolean; signal?: AbortSignal },
  tracing: Tracing | undefined,
): Promise<Shop> {
  const prepared = await prepare(config, logger, options.signal, createMetricsRegistry());
  const modules = prepared.modules.map((m) => m.module);
  if (options.seed) for (const module of modules) await module.seed?.();
  const loops: BackgroundLoop[] = modules.flatMap((module) => module.loops ?? []);
  for (const loop of loops) await loop.start();

  const broker = new Broker({ url: config.amqpUrl, prefix: config.amqpPrefix, logger, connectionName: `shop:${config.modules.join("+")}` });
  // Every module's queue exists whatever runs here, so events wait for a module started elsewhere or later.
  for (const name of MODULE_NAMES) {
    const { consumes } = MODULES[name];
    if (consumes.length > 0 && !config.modules.includes(name)) {
      broker.addTopology({ module: name, routingKeys: consumes.map((e) => e.name), retryDelaysMs: config.retryDelaysMs });
    }
  }
  const metrics = prepared.metrics;
  const counts = messagingMetrics(metrics);
  const messaging = prepared.modules.map(({ name, module, database, background }) =>
    moduleMessaging(module, {
      database,
      background,
      broker,
      retryDelaysMs: config.retryDelaysMs,
      maxMessageAgeMs: config.inboxRetentionMs,
      outboxPollMs: config.outboxPollMs,
      logger: logger.child({ module: name }),
      metrics: counts,
    }),
  );
  const consumers = messaging.flatMap((m): MessageConsumer[] => (m.consumer ? [m.consumer] : []));
  const relays = messaging.map((m) => m.relay);
  // Read at scrape time: a count per module's outbox (at most once a second), the broker's queues (at most every 5 s).
  outboxGauges(
    metrics,
    prepared.modules.map(({ name, module, background }) => ({ module: name, database: background, table: module.outboxTable })),
  );
  consumerGauge(metrics, consumers);
  const consumed = consumers.map((c) => c.module);
  queueGauges(metrics, async () => {
    const counts = await broker.messageCounts(consumed.flatMap((m) => [broker.names.queue(m), broker.names.dlq(m)]));
    return consumed.map((module, i) => ({ module, ready: counts[2 * i]!, deadLettered: counts[2 * i + 1]! }));
  });
  // Subscriptions are registered before the broker connects; relays wait for it (and are woken when it does).
  for (const worker of [...consumers, ...relays]) await worker.start();
  broker.start();
  const sweeper = new RetentionSweeper({ modules: prepared.retention, intervalMs: config.retentionIntervalMs, logger: logger.child({ component: "retention" }) });
  sweeper.start();

  // Which module serves each route, for the request's log lines.
  const routeModules = new Map(modules.flatMap((module) => (module.routes?.routes ?? []).map((r) => [`${r.method} ${r.path}`, module.name] as const)));
  const http = createHttpApp({
    logger,
    moduleOfRoute: (method, route) => routeModules.get(`${method} ${route}`),
    authenticator: prepared.authenticator,
    version: packageJson.version,
    eventsDocument: eventsDocument(config.amqpPrefix),
    metrics,
    cors: config.cors,
    readiness: {
      // Every database a module of this process lives in.
      postgres: async () => {
        await prepared.pools.ping();
        return true;
      },
      // Without RabbitMQ orders are still accepted into the outbox: degraded, not out of the load balancer.
      rabbitmq: { check: () => broker.connected, whenDown: "degraded" },
      // A module whose queue has no subscription here while RabbitMQ is up handles nothing: not ready (unless
      // READY_REQUIRES_CONSUMERS=false); while RabbitMQ is down, that is the cause and no instance consumes.
      ...Object.fromEntries(
        consumers.map((c) => [
          `${c.module}.consumer`,
          { check: () => c.consuming, whenDown: config.readyRequiresConsumers ? "unavailable" : "degraded", needs: "rabbitmq" } as const,
        ]),
      ),
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
      // Event streams end only when told to; the drain below waits for every answer in flight.
      await step("http: end event streams", () => Promise.all(modules.map((module) => module.closeStreams?.())));
      await step("http: stop accepting, finish in-flight requests", () => drainHttp(http, config.shutdownTimeoutMs / 2));
      // Each consumer takes no further delivery, then its in-flight handlers finish and settle their messages.
      await step("consumers: stop taking deliveries, finish in-flight handlers", () => Promise.all(consumers.map((c) => c.stop())));
      await step("relays and retention sweeper: stop", () => Promise.all([...relays.map((r) => r.stop()), sweeper.stop()]));
      await step("module loops: stop", () => Promise.all(loops.map((loop) => loop.stop())));
      await step("broker: close", () => broker.stop());
      await step("databases: close", prepared.close);
      // Last: the spans of everything above are exported before the process exits.
      if (tracing) await step("tracing: export the last spans", () => tracing.shutdown());
      logger.info("stopped");
    })());

  return { config, http, databaseOf: prepared.databaseOf, broker, modules, metrics, sweeper, stop };
}
