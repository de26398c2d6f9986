import { Type as t, type Static } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";

export const MODULE_NAMES = ["orders", "inventory", "notification"] as const;
export type ModuleName = (typeof MODULE_NAMES)[number];

/** Refused when NODE_ENV=production: a token signed with it would be forgeable by anyone who read the README. */
export const DEVELOPMENT_AUTH_SECRET = "dev-only-secret-change-me-please-0123456789";

// The pattern only says "digits"; loadConfig checks the range, kept here so the two cannot drift apart.
const IntString = (min: number, max: number) =>
  t.String({ pattern: "^[0-9]+$", description: `an integer from ${min} to ${max}`, minimum: min, maximum: max });

/** The environment as read: every value a string, defaults filled in. */
const EnvSchema = t.Object({
  NODE_ENV: t.Union([t.Literal("development"), t.Literal("production"), t.Literal("test")], { default: "development" }),
  PORT: IntString(0, 65535),
  DATABASE_URL: t.String({ pattern: "^postgres(ql)?://.+/[^/?]+", description: "postgres://user:pass@host:port/database" }),
  AMQP_URL: t.String({ pattern: "^amqps?://.+", description: "amqp://user:pass@host:port" }),
  AMQP_PREFIX: t.String({ pattern: "^[A-Za-z0-9._-]*$", maxLength: 100, description: "letters, digits, '.', '_' or '-'" }),
  MODULES: t.String({ description: `a comma-separated subset of ${MODULE_NAMES.join(", ")}` }),
  AUTH_SECRET: t.String({ minLength: 32, description: "at least 32 characters" }),
  SMTP_URL: t.Optional(t.String({ pattern: "^smtps?://.+", description: "smtp://user:pass@host:port" })),
  MAIL_FROM: t.String({ minLength: 3 }),
  MAIL_HOLD_MS: IntString(0, 86400000),
  MAIL_RETRY_DELAYS_MS: t.String({ pattern: "^[0-9]+(,[0-9]+)*$", description: "comma-separated delays in ms, e.g. 1000,5000,30000,120000" }),
  LOG_LEVEL: t.Union(["fatal", "error", "warn", "info", "debug", "trace", "silent"].map((l) => t.Literal(l))),
  RETRY_DELAYS_MS: t.String({ pattern: "^[0-9]+(,[0-9]+)*$", description: "comma-separated delays in ms, e.g. 1000,5000,30000" }),
  OUTBOX_POLL_MS: IntString(10, 600000),
  DATABASE_POOL_SIZE: IntString(2, 1000),
  DATABASE_PREPARE: t.Union([t.Literal("true"), t.Literal("false")], { description: "true or false" }),
  SHUTDOWN_TIMEOUT_MS: IntString(0, 600000),
});

const DEFAULTS: Record<string, string> = {
  NODE_ENV: "development",
  PORT: "3000",
  DATABASE_URL: "postgres://postgres:postgres@127.0.0.1:5432/shop",
  AMQP_URL: "amqp://guest:guest@127.0.0.1:5672",
  AMQP_PREFIX: "shop.",
  MODULES: MODULE_NAMES.join(","),
  AUTH_SECRET: DEVELOPMENT_AUTH_SECRET,
  MAIL_FROM: "Shop <shop@localhost>",
  MAIL_HOLD_MS: "300000",
  MAIL_RETRY_DELAYS_MS: "1000,5000,30000,120000",
  LOG_LEVEL: "info",
  RETRY_DELAYS_MS: "1000,5000,30000",
  OUTBOX_POLL_MS: "1000",
  DATABASE_POOL_SIZE: "10",
  DATABASE_PREPARE: "true",
  SHUTDOWN_TIMEOUT_MS: "10000",
};

export interface Config {
  nodeEnv: Static<typeof EnvSchema>["NODE_ENV"];
  port: number;
  databaseUrl: string;
  amqpUrl: string;
  amqpPrefix: string;
  modules: ModuleName[];
  authSecret: string;
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
    !(raw.NODE_ENV === "production" && raw.AUTH_SECRET === DEVELOPMENT_AUTH_SECRET),
    "the development default is refused when NODE_ENV=production; set a secret of at least 32 characters",
  );
  if (problems.length > 0) throw new ConfigError(problems);

  const env_ = raw as Static<typeof EnvSchema>;
  return {
    nodeEnv: env_.NODE_ENV,
    port,
    databaseUrl: env_.DATABASE_URL,
    amqpUrl: env_.AMQP_URL,
    amqpPrefix: env_.AMQP_PREFIX,
    modules: [...new Set(modules)] as ModuleName[],
    authSecret: env_.AUTH_SECRET,
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
  };
}

function mask(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (name === "AUTH_SECRET") return "*".repeat(Math.min(value.length, 8));
  return value.replace(/\/\/([^:/@]+):([^@]+)@/, "//$1:***@");
}
