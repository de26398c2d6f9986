import { Type as t, type Static } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import type { InventorySettings } from "../modules/inventory/index.ts";
import type { MailSettings } from "../modules/notification/index.ts";
import type { OrdersSettings } from "../modules/orders/index.ts";
import type { ClientAddressSettings } from "./platform/http/client-address.ts";
import type { CorsSettings } from "./platform/http/cors.ts";
import type { IdpSettings } from "./platform/http/idp-tokens.ts";

export const MODULE_NAMES = ["orders", "inventory", "notification"] as const;
export type ModuleName = (typeof MODULE_NAMES)[number];

/**
 * Accepted only when NODE_ENV is explicitly development or test: it is printed in this repository, so a
 * token signed with it could be forged by anyone who has read the source.
 */
export const DEVELOPMENT_AUTH_SECRET = "dev-only-secret-change-me-please-0123456789";

/** The NODE_ENV values that may run with DEVELOPMENT_AUTH_SECRET; anything else (unset included) is production. */
const DEVELOPMENT_ENVS: readonly string[] = ["development", "test"];

/**
 * RETRY_DELAYS_MS bounds. Each delay is its own retry queue with that message TTL, declared on every
 * (re)connect; RabbitMQ refuses a TTL over 2^32-1 ms, and a delay near 0 retries a failing handler (or,
 * while the database is unreachable, every message) in a busy loop.
 */
export const RETRY_DELAY_BOUNDS = { minMs: 100, maxMs: 24 * 3600 * 1000, maxCount: 10 } as const;

// The pattern only says "digits"; loadConfig checks the range, kept here so the two cannot drift apart.
const IntString = (min: number, max: number) =>
  t.String({ pattern: "^[0-9]+$", description: `an integer from ${min} to ${max}`, minimum: min, maximum: max });

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** "30d", "12h", "15m", "30s" or "500ms" in milliseconds; undefined for anything else. */
export function parseDuration(text: string): number | undefined {
  const match = /^([0-9]+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * DURATION_UNITS_MS[match[2] as keyof typeof DURATION_UNITS_MS];
}

// A duration with its range (checked by loadConfig, like IntString's).
const Duration = (min: string, max: string) =>
  t.String({
    pattern: "^[0-9]+(ms|s|m|h|d)$",
    description: `a duration such as 30s, 15m, 12h or 30d, from ${min} to ${max}`,
    durationRange: [min, max],
  });

const DatabaseUrl = t.String({ pattern: "^postgres(ql)?://.+/[^/?]+", description: "postgres://user:pass@host:port/database" });

/** The variable that gives each module a database of its own (unset: the module's schema lives in DATABASE_URL). */
export const MODULE_DATABASE_VARIABLES = {
  orders: "ORDERS_DATABASE_URL",
  inventory: "INVENTORY_DATABASE_URL",
  notification: "NOTIFICATION_DATABASE_URL",
} as const satisfies Record<ModuleName, string>;

/** The environment as read: every value a string, defaults filled in. */
const EnvSchema = t.Object({
  NODE_ENV: t.Union([t.Literal("development"), t.Literal("production"), t.Literal("test")], { description: "development, test or production" }),
  PORT: IntString(0, 65535),
  DATABASE_URL: DatabaseUrl,
  ORDERS_DATABASE_URL: t.Optional(DatabaseUrl),
  INVENTORY_DATABASE_URL: t.Optional(DatabaseUrl),
  NOTIFICATION_DATABASE_URL: t.Optional(DatabaseUrl),
  AMQP_URL: t.String({ pattern: "^amqps?://.+", description: "amqp://user:pass@host:port" }),
  AMQP_PREFIX: t.String({ pattern: "^[A-Za-z0-9._-]*$", maxLength: 100, description: "letters, digits, '.', '_' or '-'" }),
  MODULES: t.String({ description: `a comma-separated subset of ${MODULE_NAMES.join(", ")}` }),
  AUTH_SECRET: t.String({ minLength: 32, description: "at least 32 characters" }),
  AUTH_JWKS_URL: t.Optional(t.String({ pattern: "^https?://[^\\s]+$", description: "an http(s) URL of the identity provider's JSON Web Key Set" })),
  AUTH_ISSUER: t.Optional(t.String({ minLength: 1 })),
  AUTH_AUDIENCE: t.Optional(t.String({ minLength: 1 })),
  AUTH_CLOCK_TOLERANCE: Duration("0s", "5m"),
  AUTH_MAX_TOKEN_AGE: Duration("1m", "30d"),
  AUTH_ROLE_CLAIM: t.String({ pattern: "^[^.\\s]+(\\.[^.\\s]+)*$", description: "a claim name or a dotted path such as realm_access.roles" }),
  AUTH_ADMIN_ROLE: t.String({ minLength: 1 }),
  AUTH_JWKS_TIMEOUT_MS: IntString(100, 60000),
  AUTH_JWKS_COOLDOWN: Duration("1s", "1h"),
  SMTP_URL: t.Optional(t.String({ pattern: "^smtps?://.+", description: "smtp://user:pass@host:port" })),
  MAIL_FROM: t.String({ minLength: 3 }),
  MAIL_HOLD_MS: IntString(0, 86400000),
  MAIL_RETRY_DELAYS_MS: t.String({ pattern: "^[0-9]+(,[0-9]+)*$", description: "comma-separated delays in ms, e.g. 1000,5000,30000,120000" }),
  LOG_LEVEL: t.Union(["fatal", "error", "warn", "info", "debug", "trace", "silent"].map((l) => t.Literal(l))),
  RETRY_DELAYS_MS: t.String({ pattern: "^[0-9]+(,[0-9]+)*$", description: "comma-separated delays in ms, e.g. 1000,5000,30000" }),
  OUTBOX_POLL_MS: IntString(10, 600000),
  DATABASE_POOL_SIZE: IntString(2, 1000),
  DATABASE_PREPARE: t.Union([t.Literal("true"), t.Literal("false")], { description: "true or false" }),
  READY_REQUIRES_CONSUMERS: t.Union([t.Literal("true"), t.Literal("false")], { description: "true or false" }),
  DATABASE_STATEMENT_TIMEOUT_MS: IntString(0, 3_600_000),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: IntString(0, 3_600_000),
  SHUTDOWN_TIMEOUT_MS: IntString(0, 600000),
  OUTBOX_RETENTION: Duration("1s", "3650d"),
  INBOX_RETENTION: Duration("1d", "3650d"),
  SENT_EMAIL_BODY_RETENTION: Duration("1s", "3650d"),
  RETENTION_INTERVAL: Duration("1s", "1d"),
  OTEL_EXPORTER_OTLP_ENDPOINT: t.Optional(t.String({ pattern: "^https?://[^\\s]+$", description: "an http(s) URL of an OTLP/HTTP receiver, e.g. http://jaeger:4318" })),
  CORS_ORIGINS: t.Optional(t.String({ description: "a comma-separated list of origins such as https://shop.example.com, or *" })),
  CORS_CREDENTIALS: t.Union([t.Literal("true"), t.Literal("false")], { description: "true or false" }),
  CORS_MAX_AGE: IntString(0, 86400),
  RATE_LIMIT_ORDERS: IntString(0, 100_000),
  RATE_LIMIT_PUBLIC: IntString(0, 1_000_000),
  TRUSTED_PROXY_HEADER: t.Optional(t.String({ pattern: "^[A-Za-z0-9-]+$", maxLength: 100, description: "an HTTP header name such as x-forwarded-for or x-real-ip" })),
  TRUSTED_PROXY_HOPS: IntString(1, 10),
  ORDERS_MAX_OPEN_UNITS_PER_SKU: IntString(0, 1_000_000),
  SSE_HEARTBEAT_INTERVAL: Duration("1s", "1h"),
  SSE_MAX_STREAMS: IntString(1, 100000),
});

const DEFAULTS: Record<string, string> = {
  // Unset means production: the development secret, the demo catalog and the like need an explicit NODE_ENV.
  NODE_ENV: "production",
  PORT: "3000",
  DATABASE_URL: "postgres://postgres:postgres@127.0.0.1:5432/shop",
  AMQP_URL: "amqp://guest:guest@127.0.0.1:5672",
  AMQP_PREFIX: "shop.",
  MODULES: MODULE_NAMES.join(","),
  AUTH_SECRET: DEVELOPMENT_AUTH_SECRET,
  AUTH_CLOCK_TOLERANCE: "30s",
  AUTH_MAX_TOKEN_AGE: "24h",
  AUTH_ROLE_CLAIM: "roles",
  AUTH_ADMIN_ROLE: "shop-admin",
  AUTH_JWKS_TIMEOUT_MS: "3000",
  AUTH_JWKS_COOLDOWN: "30s",
  MAIL_FROM: "Shop <shop@localhost>",
  MAIL_HOLD_MS: "300000",
  MAIL_RETRY_DELAYS_MS: "1000,5000,30000,120000",
  LOG_LEVEL: "info",
  RETRY_DELAYS_MS: "1000,5000,30000",
  OUTBOX_POLL_MS: "1000",
  DATABASE_POOL_SIZE: "10",
  DATABASE_PREPARE: "true",
  READY_REQUIRES_CONSUMERS: "true",
  DATABASE_STATEMENT_TIMEOUT_MS: "30000",
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: "60000",
  SHUTDOWN_TIMEOUT_MS: "10000",
  OUTBOX_RETENTION: "7d",
  INBOX_RETENTION: "30d",
  SENT_EMAIL_BODY_RETENTION: "30d",
  RETENTION_INTERVAL: "10m",
  CORS_CREDENTIALS: "false",
  CORS_MAX_AGE: "600",
  // Far above what a shopper does (a few orders, a few dozen catalog pages a minute), well below a script's loop.
  RATE_LIMIT_ORDERS: "30",
  RATE_LIMIT_PUBLIC: "600",
  TRUSTED_PROXY_HOPS: "1",
  ORDERS_MAX_OPEN_UNITS_PER_SKU: "50",
  SSE_HEARTBEAT_INTERVAL: "15s",
  SSE_MAX_STREAMS: "1000",
};

/** Every variable the configuration reads, with its default (undefined: none, the setting is off or derived). */
export const CONFIG_VARIABLES: { name: string; default: string | undefined }[] = Object.keys(EnvSchema.properties).map((name) => ({
  name,
  default: DEFAULTS[name],
}));

export interface Config {
  nodeEnv: Static<typeof EnvSchema>["NODE_ENV"];
  port: number;
  /** DATABASE_URL: the database of every module that has no database of its own. */
  databaseUrl: string;
  /** The database each module's schema lives in: its `<MODULE>_DATABASE_URL`, else DATABASE_URL. */
  moduleDatabaseUrls: Record<ModuleName, string>;
  amqpUrl: string;
  amqpPrefix: string;
  modules: ModuleName[];
  authSecret: string;
  /** Tokens from an identity provider (AUTH_JWKS_URL and the AUTH_* settings around it); unset: none are accepted. */
  idp: IdpSettings | undefined;
  smtpUrl: string | undefined;
  mailFrom: string;
  /** How long an order's e-mail waits for the order's earlier e-mail to be recorded. */
  mailHoldMs: number;
  /** Waits between attempts to send an e-mail; it is `failed` after one attempt more than there are delays. */
  mailRetryDelaysMs: number[];
  logLevel: Static<typeof EnvSchema>["LOG_LEVEL"];
  /** One entry per retry of a failing handler; the message is dead-lettered after the last. */
  retryDelaysMs: number[];
  outboxPollMs: number;
  shutdownTimeoutMs: number;
  /** Connections for requests and event handlers (relays and the mail dispatcher have four of their own). */
  databasePoolSize: number;
  /** Prepared statements; false only behind a pooler that cannot keep them (PgBouncer < 1.21 in transaction mode). */
  databasePrepare: boolean;
  /** Whether a module of this process that does not consume its queue (RabbitMQ up) makes /health/ready 503; else `degraded`. */
  readyRequiresConsumers: boolean;
  /** Longest a statement of the shop's pools may run (0: no limit); migrations have none. */
  databaseStatementTimeoutMs: number;
  /** Longest a transaction may sit idle before PostgreSQL ends its session (0: no limit). */
  databaseIdleInTransactionTimeoutMs: number;
  /** Sent outbox rows are deleted this long after they were sent. */
  outboxRetentionMs: number;
  /**
   * Inbox rows (and inventory's cancelled-order markers) are deleted this long after they were written; an event
   * older than this (less a margin) is parked rather than applied, since its duplicate could go unrecognised.
   */
  inboxRetentionMs: number;
  /** Sent e-mails keep their bodies this long after they were sent; the row itself stays. */
  sentEmailBodyRetentionMs: number;
  /** How often every `serve` process tries a retention sweep. */
  retentionIntervalMs: number;
  /** OTEL_EXPORTER_OTLP_ENDPOINT: spans are exported there (OTLP/HTTP); unset = no tracing at all. */
  otlpEndpoint: string | undefined;
  /** Browser origins allowed to call the API (CORS_ORIGINS; none by default), with or without credentials. */
  cors: CorsSettings;
  /** RATE_LIMIT_ORDERS: order placements per customer per minute, per instance (0: no limit). */
  rateLimitOrdersPerMinute: number;
  /** RATE_LIMIT_PUBLIC: requests to the public catalog routes per client address per minute, per instance (0: no limit). */
  rateLimitPublicPerMinute: number;
  /** Where the client's address is read: the socket, or the header a trusted proxy sets (TRUSTED_PROXY_HEADER, _HOPS). */
  clientAddress: ClientAddressSettings;
  /** ORDERS_MAX_OPEN_UNITS_PER_SKU: units of one sku a customer may hold in pending and confirmed orders (0: no cap). */
  maxOpenUnitsPerSku: number;
  /** How often an open event stream (GET /orders/:id/events) sends a heartbeat comment. */
  sseHeartbeatMs: number;
  /** Event streams one process holds open at most; one more is refused with 503. */
  sseMaxStreams: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Reads the environment into a typed Config; throws one ConfigError listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== "") raw[key] = value;
    else if (DEFAULTS[key] !== undefined) raw[key] = DEFAULTS[key];
  }

  const problems: string[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(EnvSchema, raw)) {
    const name = error.path.replace(/^\//, "");
    if (seen.has(name)) continue;
    seen.add(name);
    const expected = (error.schema as { description?: string }).description;
    const shown = raw[name] === undefined ? "missing" : `got ${JSON.stringify(mask(name, raw[name]))}`;
    problems.push(`${name}: ${expected ? `expected ${expected}` : error.message} (${shown})`);
  }
  const check = (name: string, ok: boolean, message: string) => {
    if (!seen.has(name) && !ok) {
      seen.add(name);
      problems.push(`${name}: ${message}`);
    }
  };

  for (const [name, schema] of Object.entries(EnvSchema.properties)) {
    const { minimum, maximum } = schema as { minimum?: number; maximum?: number };
    if (minimum === undefined || maximum === undefined) continue;
    const value = Number(raw[name]);
    check(name, value >= minimum && value <= maximum, `expected an integer from ${minimum} to ${maximum} (got ${JSON.stringify(raw[name])})`);
  }
  for (const [name, schema] of Object.entries(EnvSchema.properties)) {
    const { durationRange } = schema as { durationRange?: [string, string] };
    if (!durationRange) continue;
    const value = parseDuration(raw[name] ?? "")!;
    const [min, max] = durationRange;
    check(name, value >= parseDuration(min)! && value <= parseDuration(max)!, `expected a duration from ${min} to ${max} (got ${JSON.stringify(raw[name])})`);
  }
  const port = Number(raw.PORT);
  const modules = (raw.MODULES ?? "").split(",").map((m) => m.trim()).filter(Boolean);
  const unknown = modules.filter((m) => !(MODULE_NAMES as readonly string[]).includes(m));
  check(
    "MODULES",
    modules.length > 0 && unknown.length === 0,
    `expected a comma-separated subset of ${MODULE_NAMES.join(", ")} (got ${JSON.stringify(raw.MODULES)})`,
  );
  check(
    "AUTH_SECRET",
    raw.AUTH_SECRET !== DEVELOPMENT_AUTH_SECRET || DEVELOPMENT_ENVS.includes(raw.NODE_ENV ?? ""),
    developmentSecretRefused(env.NODE_ENV),
  );
  for (const name of ["AUTH_ISSUER", "AUTH_AUDIENCE"]) {
    check(name, raw[name] === undefined || raw.AUTH_JWKS_URL !== undefined, "applies to identity-provider tokens only: set AUTH_JWKS_URL too, or unset it");
  }
  if (!seen.has("RETRY_DELAYS_MS")) {
    const broken = retryDelayProblems((raw.RETRY_DELAYS_MS ?? "").split(",").map(Number));
    check("RETRY_DELAYS_MS", broken.length === 0, `${broken.join("; ")} (got ${JSON.stringify(raw.RETRY_DELAYS_MS)})`);
  }
  const corsOrigins = (raw.CORS_ORIGINS ?? "").split(",").map((o) => o.trim()).filter(Boolean);
  if (!seen.has("CORS_ORIGINS")) {
    const broken = corsOriginProblems(corsOrigins, raw.CORS_CREDENTIALS === "true");
    check("CORS_ORIGINS", broken.length === 0, `${broken.join("; ")} (got ${JSON.stringify(raw.CORS_ORIGINS)})`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const env_ = raw as Static<typeof EnvSchema>;
  return {
    nodeEnv: env_.NODE_ENV,
    port,
    databaseUrl: env_.DATABASE_URL,
    moduleDatabaseUrls: Object.fromEntries(MODULE_NAMES.map((m) => [m, env_[MODULE_DATABASE_VARIABLES[m]] ?? env_.DATABASE_URL])) as Record<ModuleName, string>,
    amqpUrl: env_.AMQP_URL,
    amqpPrefix: env_.AMQP_PREFIX,
    modules: [...new Set(modules)] as ModuleName[],
    authSecret: env_.AUTH_SECRET,
    idp: env_.AUTH_JWKS_URL === undefined ? undefined : idpSettings(env_, env_.AUTH_JWKS_URL),
    smtpUrl: env_.SMTP_URL,
    mailFrom: env_.MAIL_FROM,
    mailHoldMs: Number(env_.MAIL_HOLD_MS),
    mailRetryDelaysMs: env_.MAIL_RETRY_DELAYS_MS.split(",").map(Number),
    logLevel: env_.LOG_LEVEL,
    retryDelaysMs: env_.RETRY_DELAYS_MS.split(",").map(Number),
    outboxPollMs: Number(env_.OUTBOX_POLL_MS),
    shutdownTimeoutMs: Number(env_.SHUTDOWN_TIMEOUT_MS),
    databasePoolSize: Number(env_.DATABASE_POOL_SIZE),
    databasePrepare: env_.DATABASE_PREPARE === "true",
    readyRequiresConsumers: env_.READY_REQUIRES_CONSUMERS === "true",
    databaseStatementTimeoutMs: Number(env_.DATABASE_STATEMENT_TIMEOUT_MS),
    databaseIdleInTransactionTimeoutMs: Number(env_.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS),
    outboxRetentionMs: parseDuration(env_.OUTBOX_RETENTION)!,
    inboxRetentionMs: parseDuration(env_.INBOX_RETENTION)!,
    sentEmailBodyRetentionMs: parseDuration(env_.SENT_EMAIL_BODY_RETENTION)!,
    retentionIntervalMs: parseDuration(env_.RETENTION_INTERVAL)!,
    otlpEndpoint: env_.OTEL_EXPORTER_OTLP_ENDPOINT,
    cors: { origins: [...new Set(corsOrigins)], credentials: env_.CORS_CREDENTIALS === "true", maxAgeSeconds: Number(env_.CORS_MAX_AGE) },
    rateLimitOrdersPerMinute: Number(env_.RATE_LIMIT_ORDERS),
    rateLimitPublicPerMinute: Number(env_.RATE_LIMIT_PUBLIC),
    clientAddress: { trustedProxyHeader: env_.TRUSTED_PROXY_HEADER?.toLowerCase(), trustedProxyHops: Number(env_.TRUSTED_PROXY_HOPS) },
    maxOpenUnitsPerSku: Number(env_.ORDERS_MAX_OPEN_UNITS_PER_SKU),
    sseHeartbeatMs: parseDuration(env_.SSE_HEARTBEAT_INTERVAL)!,
    sseMaxStreams: Number(env_.SSE_MAX_STREAMS),
  };
}

function idpSettings(env: Static<typeof EnvSchema>, jwksUrl: string): IdpSettings {
  return {
    jwksUrl,
    issuer: env.AUTH_ISSUER,
    audience: env.AUTH_AUDIENCE,
    clockToleranceSeconds: parseDuration(env.AUTH_CLOCK_TOLERANCE)! / 1000,
    maxTokenAgeSeconds: parseDuration(env.AUTH_MAX_TOKEN_AGE)! / 1000,
    roleClaim: env.AUTH_ROLE_CLAIM,
    adminRole: env.AUTH_ADMIN_ROLE,
    jwksTimeoutMs: Number(env.AUTH_JWKS_TIMEOUT_MS),
    jwksCooldownMs: parseDuration(env.AUTH_JWKS_COOLDOWN)!,
  };
}

/** What each module needs from the configuration beyond what every module gets (database, logger, secret). */
export interface ModuleSettings {
  orders: OrdersSettings | undefined;
  inventory: InventorySettings | undefined;
  notification: MailSettings;
}

const SETTINGS_READERS: { [M in ModuleName]: (config: Config) => ModuleSettings[M] } = {
  orders: (config) => ({
    placeRateLimit: { perMinute: config.rateLimitOrdersPerMinute },
    maxOpenUnitsPerSku: config.maxOpenUnitsPerSku,
    statusStreams: { heartbeatMs: config.sseHeartbeatMs, maxStreams: config.sseMaxStreams },
  }),
  inventory: (config) => ({ publicRateLimit: { perMinute: config.rateLimitPublicPerMinute }, clientAddress: config.clientAddress }),
  notification: (config) => ({ smtpUrl: config.smtpUrl, from: config.mailFrom, holdMs: config.mailHoldMs, retryDelaysMs: config.mailRetryDelaysMs }),
};

/** A module's own settings, read from the configuration. */
export function moduleSettings<M extends ModuleName>(config: Config, module: M): ModuleSettings[M] {
  return SETTINGS_READERS[module](config);
}

function developmentSecretRefused(nodeEnv: string | undefined): string {
  const mode = nodeEnv ? `NODE_ENV=${nodeEnv}` : "NODE_ENV is unset, which means production";
  return (
    `the built-in development secret is refused unless NODE_ENV is development or test (${mode}). ` +
    "Set AUTH_SECRET to a secret of at least 32 characters (e.g. the output of `openssl rand -base64 48`); " +
    "or, on a developer's machine only, set NODE_ENV=development (`npm start` does)"
  );
}

/** Every RETRY_DELAYS_MS rule the delays break, each saying which delays break it; empty when they are fine. */
function retryDelayProblems(delays: number[]): string[] {
  const { minMs, maxMs, maxCount } = RETRY_DELAY_BOUNDS;
  const problems: string[] = [];
  if (delays.length > maxCount) problems.push(`expected at most ${maxCount} delays (got ${delays.length}); each delay is a queue on the broker`);
  const short = delays.filter((d) => d < minMs);
  if (short.length > 0) problems.push(`each delay must be at least ${minMs} ms, or a failing handler retries in a busy loop (${short.join(", ")})`);
  const long = delays.filter((d) => d > maxMs);
  if (long.length > 0) problems.push(`each delay must be at most ${maxMs} ms (24 h) (${long.join(", ")})`);
  const drop = delays.findIndex((d, i) => i > 0 && d < delays[i - 1]!);
  if (drop > 0) problems.push(`delays must not decrease (${delays[drop]} after ${delays[drop - 1]}): each retry waits at least as long as the one before`);
  return problems;
}

/**
 * Every CORS_ORIGINS rule the origins break; empty when they are fine. A browser sends its Origin as
 * scheme://host[:port] and the shop compares it exactly, so anything else (a path, a trailing slash) never matches.
 */
function corsOriginProblems(origins: string[], credentials: boolean): string[] {
  if (origins.includes("*")) {
    if (origins.length > 1) return ["* allows every origin and cannot be combined with a list"];
    // Browsers refuse Access-Control-Allow-Origin: * with credentials; echoing any origin instead would let every site act as the user.
    if (credentials) return ["* cannot be used with CORS_CREDENTIALS=true: list the origins"];
    return [];
  }
  const malformed = origins.filter((o) => !isOrigin(o));
  return malformed.length === 0 ? [] : [`expected origins as scheme://host[:port], without path or trailing slash (${malformed.join(", ")})`];
}

function isOrigin(text: string): boolean {
  if (!/^https?:\/\/[^/?#\s]+$/.test(text)) return false;
  try {
    // URL.origin drops a default port and lowercases the host: a browser sends it that way, so only that form can match.
    return new URL(text).origin === text;
  } catch {
    return false;
  }
}

function mask(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (name === "AUTH_SECRET") return "*".repeat(Math.min(value.length, 8));
  return value.replace(/\/\/([^:/@]+):([^@]+)@/, "//$1:***@");
}
