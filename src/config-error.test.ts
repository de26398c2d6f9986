import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { ConfigError, DEVELOPMENT_AUTH_SECRET, loadConfig, MODULE_NAMES, moduleSettings } from "./config.ts";
import { testPrefix } from "./test-support/broker.ts";
import { createTestDatabase, type TestDatabase } from "./test-support/database.ts";
import { runCli, stopAllProcesses } from "./test-support/process.ts";
import { testEnv } from "./test-support/shop.ts";

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("loadConfig accepted the environment");
}

/** The variable each problem line is about ("PORT: expected ..." → "PORT"). */
const namesIn = (problems: string[]) => problems.map((p) => p.split(":")[0]).sort();

/** The environment of a developer's machine: everything else defaults, the built-in secret is allowed. */
const DEV = { NODE_ENV: "development" };

describe("loadConfig", () => {
  test("when NODE_ENV=development and nothing else is set, then the defaults serve a fresh machine with local PostgreSQL and RabbitMQ", () => {
    const config = loadConfig(DEV);
    expect(config).toMatchObject({
      nodeEnv: "development",
      port: 3000,
      databaseUrl: "postgres://postgres:postgres@127.0.0.1:5432/shop",
      amqpUrl: "amqp://guest:guest@127.0.0.1:5672",
      amqpPrefix: "shop.",
      modules: [...MODULE_NAMES],
      authSecret: DEVELOPMENT_AUTH_SECRET,
      smtpUrl: undefined,
      logLevel: "info",
      retryDelaysMs: [1000, 5000, 30000],
      outboxPollMs: 1000,
      shutdownTimeoutMs: 10000,
      databasePoolSize: 10,
      databasePrepare: true,
      outboxRetentionMs: 7 * 86_400_000,
      inboxRetentionMs: 30 * 86_400_000,
      sentEmailBodyRetentionMs: 30 * 86_400_000,
      retentionIntervalMs: 600_000,
      cors: { origins: [], credentials: false, maxAgeSeconds: 600 },
    });
  });

  test("when a retention period is a duration in range, then it is taken in any unit; otherwise it is refused by name", () => {
    expect(loadConfig({ NODE_ENV: "development", OUTBOX_RETENTION: "36h", INBOX_RETENTION: "90d", SENT_EMAIL_BODY_RETENTION: "1s", RETENTION_INTERVAL: "500000ms" })).toMatchObject({
      outboxRetentionMs: 36 * 3_600_000,
      inboxRetentionMs: 90 * 86_400_000,
      sentEmailBodyRetentionMs: 1000,
      retentionIntervalMs: 500_000,
    });
    const problems = problemsOf({ NODE_ENV: "development", OUTBOX_RETENTION: "7 days", INBOX_RETENTION: "12h", SENT_EMAIL_BODY_RETENTION: "-1d", RETENTION_INTERVAL: "2d" });
    expect(namesIn(problems)).toEqual(["INBOX_RETENTION", "OUTBOX_RETENTION", "RETENTION_INTERVAL", "SENT_EMAIL_BODY_RETENTION"]);
    expect(problems.find((p) => p.startsWith("INBOX_RETENTION"))).toContain("from 1d to 3650d");
  });

  test("when the pool size or the prepared-statement switch is out of range, then each is refused by name", () => {
    expect(loadConfig({ ...DEV, DATABASE_POOL_SIZE: "25", DATABASE_PREPARE: "false" })).toMatchObject({ databasePoolSize: 25, databasePrepare: false });
    expect(namesIn(problemsOf({ ...DEV, DATABASE_POOL_SIZE: "1", DATABASE_PREPARE: "no" })).sort()).toEqual(["DATABASE_POOL_SIZE", "DATABASE_PREPARE"]);
    expect(namesIn(problemsOf({ ...DEV, DATABASE_POOL_SIZE: "1001" }))).toEqual(["DATABASE_POOL_SIZE"]);
  });

  test("when a variable is set to the empty string, then its default applies", () => {
    expect(loadConfig({ ...DEV, PORT: "", MODULES: "" })).toMatchObject({ port: 3000, modules: [...MODULE_NAMES] });
  });

  test("when MODULES names a subset with spaces, repeats and another order, then exactly those modules run, each once", () => {
    expect(loadConfig({ ...DEV, MODULES: " inventory , orders,inventory" }).modules).toEqual(["inventory", "orders"]);
    expect(loadConfig({ ...DEV, MODULES: "notification" }).modules).toEqual(["notification"]);
  });

  test("when MODULES is only separators or names an unknown module, then it is refused naming the valid ones", () => {
    for (const value of [",", "orders,payments", "ORDERS"]) {
      const problems = problemsOf({ ...DEV, MODULES: value });
      expect(namesIn(problems)).toEqual(["MODULES"]);
      expect(problems[0]).toContain("orders, inventory, notification");
    }
  });

  test("when many variables are bad at once, then one error lists every one of them", () => {
    const problems = problemsOf({
      NODE_ENV: "staging",
      PORT: "abc",
      DATABASE_URL: "mysql://root:hunter2@db/shop",
      AMQP_URL: "http://guest:guest@mq",
      AMQP_PREFIX: "bad prefix!",
      MODULES: "orders,payments",
      AUTH_SECRET: "short",
      SMTP_URL: "ftp://mail",
      MAIL_FROM: "x",
      LOG_LEVEL: "loud",
      RETRY_DELAYS_MS: "1,,2",
      OUTBOX_POLL_MS: "fast",
      SHUTDOWN_TIMEOUT_MS: "-1",
    });
    expect(namesIn(problems)).toEqual(
      [
        "NODE_ENV",
        "PORT",
        "DATABASE_URL",
        "AMQP_URL",
        "AMQP_PREFIX",
        "MODULES",
        "AUTH_SECRET",
        "SMTP_URL",
        "MAIL_FROM",
        "LOG_LEVEL",
        "RETRY_DELAYS_MS",
        "OUTBOX_POLL_MS",
        "SHUTDOWN_TIMEOUT_MS",
      ].sort(),
    );
  });

  test("when a number is outside the range its variable allows, then it is refused", () => {
    expect(namesIn(problemsOf({ ...DEV, PORT: "65536" }))).toEqual(["PORT"]);
    expect(namesIn(problemsOf({ ...DEV, OUTBOX_POLL_MS: "0" }))).toEqual(["OUTBOX_POLL_MS"]);
    expect(namesIn(problemsOf({ ...DEV, OUTBOX_POLL_MS: "600001" }))).toEqual(["OUTBOX_POLL_MS"]);
    expect(namesIn(problemsOf({ ...DEV, SHUTDOWN_TIMEOUT_MS: "600001" }))).toEqual(["SHUTDOWN_TIMEOUT_MS"]);
    expect(loadConfig({ ...DEV, PORT: "0", OUTBOX_POLL_MS: "10", SHUTDOWN_TIMEOUT_MS: "0" })).toMatchObject({ port: 0, outboxPollMs: 10, shutdownTimeoutMs: 0 });
  });

  test("when a module's database URL is set, then that module lives there and the others in DATABASE_URL; a malformed one is refused by name", () => {
    const own = "postgres://postgres@127.0.0.1:5432/shop_inventory";
    expect(loadConfig({ ...DEV, INVENTORY_DATABASE_URL: own }).moduleDatabaseUrls).toEqual({
      orders: "postgres://postgres:postgres@127.0.0.1:5432/shop",
      inventory: own,
      notification: "postgres://postgres:postgres@127.0.0.1:5432/shop",
    });
    expect(namesIn(problemsOf({ ...DEV, ORDERS_DATABASE_URL: "mysql://x/y", NOTIFICATION_DATABASE_URL: "postgres://host-without-database" }))).toEqual([
      "NOTIFICATION_DATABASE_URL",
      "ORDERS_DATABASE_URL",
    ]);
  });

  test("when the mail hold or mail retry delays are set, then they are used; out of range or malformed, they are refused", () => {
    expect(loadConfig(DEV)).toMatchObject({ mailHoldMs: 300_000, mailRetryDelaysMs: [1000, 5000, 30000, 120000] });
    expect(loadConfig({ ...DEV, MAIL_HOLD_MS: "0", MAIL_RETRY_DELAYS_MS: "50" })).toMatchObject({ mailHoldMs: 0, mailRetryDelaysMs: [50] });
    expect(namesIn(problemsOf({ ...DEV, MAIL_HOLD_MS: "86400001", MAIL_RETRY_DELAYS_MS: "1,,2" }))).toEqual(["MAIL_HOLD_MS", "MAIL_RETRY_DELAYS_MS"]);
    expect(namesIn(problemsOf({ ...DEV, MAIL_HOLD_MS: "soon" }))).toEqual(["MAIL_HOLD_MS"]);
  });

  test("when the live-status stream settings are set, then orders gets them; out of range, they are refused by name", () => {
    expect(moduleSettings(loadConfig(DEV), "orders")?.statusStreams).toEqual({ heartbeatMs: 15_000, maxStreams: 1000 });
    expect(moduleSettings(loadConfig({ ...DEV, SSE_HEARTBEAT_INTERVAL: "2s", SSE_MAX_STREAMS: "5" }), "orders")?.statusStreams).toEqual({ heartbeatMs: 2000, maxStreams: 5 });
    const bad = { SSE_HEARTBEAT_INTERVAL: "2h", SSE_MAX_STREAMS: "0" };
    expect(namesIn(problemsOf({ ...DEV, ...bad }))).toEqual(Object.keys(bad).sort());
  });

  test("when the rate limits, the trusted proxy header or the open-units cap are set, then the modules get them; bad values are refused by name", () => {
    expect(moduleSettings(loadConfig(DEV), "orders")).toMatchObject({ placeRateLimit: { perMinute: 30 }, maxOpenUnitsPerSku: 50 });
    expect(moduleSettings(loadConfig(DEV), "inventory")).toEqual({
      publicRateLimit: { perMinute: 600 },
      clientAddress: { trustedProxyHeader: undefined, trustedProxyHops: 1 },
    });
    const set = loadConfig({ ...DEV, RATE_LIMIT_ORDERS: "0", RATE_LIMIT_PUBLIC: "5", TRUSTED_PROXY_HEADER: "X-Forwarded-For", TRUSTED_PROXY_HOPS: "2", ORDERS_MAX_OPEN_UNITS_PER_SKU: "0" });
    expect(moduleSettings(set, "orders")).toMatchObject({ placeRateLimit: { perMinute: 0 }, maxOpenUnitsPerSku: 0 });
    expect(moduleSettings(set, "inventory")).toEqual({ publicRateLimit: { perMinute: 5 }, clientAddress: { trustedProxyHeader: "x-forwarded-for", trustedProxyHops: 2 } });
    const bad = { RATE_LIMIT_ORDERS: "-1", RATE_LIMIT_PUBLIC: "lots", TRUSTED_PROXY_HEADER: "x forwarded", TRUSTED_PROXY_HOPS: "0", ORDERS_MAX_OPEN_UNITS_PER_SKU: "1.5" };
    expect(namesIn(problemsOf({ ...DEV, ...bad }))).toEqual(Object.keys(bad).sort());
  });

  test("when a URL with a password or the secret is refused, then the error shows neither", () => {
    const error = (() => {
      try {
        loadConfig({ ...DEV, DATABASE_URL: "postgres://shop:hunter2@db.internal:5432", AMQP_URL: "http://guest:s3cr3t-pw@mq", AUTH_SECRET: "my-short-secret" });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error("loadConfig accepted the environment");
    })();
    expect(namesIn(error.problems)).toEqual(["AMQP_URL", "AUTH_SECRET", "DATABASE_URL"]);
    expect(error.message).toContain("postgres://shop:***@db.internal:5432");
    expect(error.message).toContain("http://guest:***@mq");
    for (const secret of ["hunter2", "s3cr3t-pw", "my-short-secret"]) expect(error.message).not.toContain(secret);
  });
});

describe("loadConfig: NODE_ENV and the built-in development secret", () => {
  const REAL_SECRET = "a-real-production-secret-of-40-characters";

  test("when NODE_ENV is unset and AUTH_SECRET too, then the built-in secret is refused, saying how to fix AUTH_SECRET and NODE_ENV", () => {
    for (const env of [{}, { NODE_ENV: "" }, { AUTH_SECRET: DEVELOPMENT_AUTH_SECRET }]) {
      const problems = problemsOf(env);
      expect(namesIn(problems)).toEqual(["AUTH_SECRET"]);
      const [problem] = problems;
      expect(problem).toContain("NODE_ENV is unset, which means production");
      expect(problem).toMatch(/set AUTH_SECRET to a secret of at least 32 characters/i);
      expect(problem).toContain("NODE_ENV=development");
      expect(problem).not.toContain(DEVELOPMENT_AUTH_SECRET);
    }
  });

  test("when NODE_ENV is unset and AUTH_SECRET is real, then the shop runs as production", () => {
    expect(loadConfig({ AUTH_SECRET: REAL_SECRET })).toMatchObject({ nodeEnv: "production", authSecret: REAL_SECRET });
  });

  test("when NODE_ENV is development or test, then the built-in secret is accepted, set or by default", () => {
    for (const nodeEnv of ["development", "test"] as const) {
      expect(loadConfig({ NODE_ENV: nodeEnv })).toMatchObject({ nodeEnv, authSecret: DEVELOPMENT_AUTH_SECRET });
      expect(loadConfig({ NODE_ENV: nodeEnv, AUTH_SECRET: DEVELOPMENT_AUTH_SECRET }).authSecret).toBe(DEVELOPMENT_AUTH_SECRET);
    }
  });

  test("when NODE_ENV=production keeps the development secret, explicitly or by default, then it is refused", () => {
    for (const env of [{ NODE_ENV: "production", AUTH_SECRET: DEVELOPMENT_AUTH_SECRET }, { NODE_ENV: "production" }]) {
      const problems = problemsOf(env);
      expect(namesIn(problems)).toEqual(["AUTH_SECRET"]);
      expect(problems[0]).toContain("NODE_ENV=production");
      expect(problems[0]).toContain("NODE_ENV=development");
    }
    expect(loadConfig({ NODE_ENV: "production", AUTH_SECRET: REAL_SECRET }).nodeEnv).toBe("production");
  });
});

describe("loadConfig: RETRY_DELAYS_MS bounds", () => {
  const retryProblem = (value: string) => {
    const problems = problemsOf({ ...DEV, RETRY_DELAYS_MS: value });
    expect(namesIn(problems)).toEqual(["RETRY_DELAYS_MS"]);
    expect(problems[0]).toContain(JSON.stringify(value));
    return problems[0]!;
  };

  test("when a delay is under 100 ms, then it is refused: 0 would retry a failing handler in a hot loop", () => {
    for (const value of ["0", "99", "1000,50"]) expect(retryProblem(value)).toContain("at least 100 ms");
  });

  test("when a delay is over 24 h, then it is refused, however large (RabbitMQ's message TTL stops at 2^32-1 ms)", () => {
    for (const value of ["86400001", "1000,4294967296", "99999999999999999999999"]) expect(retryProblem(value)).toContain("at most 86400000 ms (24 h)");
  });

  test("when there are more than 10 delays, then it is refused: each delay is a queue on the broker", () => {
    expect(retryProblem(Array.from({ length: 11 }, (_, i) => 100 * (i + 1)).join(","))).toContain("at most 10 delays (got 11)");
  });

  test("when a delay is shorter than the one before it, then it is refused: retries back off", () => {
    expect(retryProblem("1000,30000,5000")).toContain("must not decrease (5000 after 30000)");
  });

  test("when several rules are broken, then the one problem names each", () => {
    const problem = retryProblem("0,90000000,1000");
    for (const rule of ["at least 100 ms", "at most 86400000 ms", "must not decrease"]) expect(problem).toContain(rule);
  });

  test("when the delays sit on the bounds, then they are accepted as given", () => {
    expect(loadConfig({ ...DEV, RETRY_DELAYS_MS: "100" }).retryDelaysMs).toEqual([100]);
    expect(loadConfig({ ...DEV, RETRY_DELAYS_MS: "100,100,86400000" }).retryDelaysMs).toEqual([100, 100, 86400000]);
    const ten = Array.from({ length: 10 }, (_, i) => 1000 * (i + 1));
    expect(loadConfig({ ...DEV, RETRY_DELAYS_MS: ten.join(",") }).retryDelaysMs).toEqual(ten);
  });
});

describe("loadConfig: CORS", () => {
  const problemOf = (env: Record<string, string>) => problemsOf({ ...DEV, ...env }).find((p) => p.startsWith("CORS_"));

  test("when CORS_ORIGINS lists exact origins, then those are allowed, trimmed and each once; credentials and max age as set", () => {
    const config = loadConfig({
      ...DEV,
      CORS_ORIGINS: " https://shop.example.com,http://localhost:5173 ,https://shop.example.com,https://admin.example.com:8443",
      CORS_CREDENTIALS: "true",
      CORS_MAX_AGE: "0",
    });
    expect(config.cors).toEqual({
      origins: ["https://shop.example.com", "http://localhost:5173", "https://admin.example.com:8443"],
      credentials: true,
      maxAgeSeconds: 0,
    });
    expect(loadConfig({ ...DEV, CORS_ORIGINS: "*" }).cors.origins).toEqual(["*"]);
  });

  test("when an origin has a path, a trailing slash, no scheme, a default port or upper case, then it is refused naming it: a browser's Origin could never match it", () => {
    for (const origin of ["https://shop.example.com/", "https://shop.example.com/app", "shop.example.com", "ftp://shop.example.com", "https://shop.example.com:443", "https://Shop.example.com"]) {
      const problem = problemOf({ CORS_ORIGINS: `http://localhost:5173,${origin}` });
      expect(problem).toStartWith("CORS_ORIGINS: expected origins as scheme://host[:port]");
      expect(problem).toContain(`(${origin})`);
    }
  });

  test("when * is combined with credentials or with listed origins, then it is refused: browsers reject * with credentials", () => {
    expect(problemOf({ CORS_ORIGINS: "*", CORS_CREDENTIALS: "true" })).toStartWith("CORS_ORIGINS: * cannot be used with CORS_CREDENTIALS=true");
    expect(problemOf({ CORS_ORIGINS: "*,https://shop.example.com" })).toStartWith("CORS_ORIGINS: * allows every origin");
  });

  test("when CORS_CREDENTIALS or CORS_MAX_AGE is malformed, then each is refused by name", () => {
    expect(namesIn(problemsOf({ ...DEV, CORS_CREDENTIALS: "yes", CORS_MAX_AGE: "86401" }))).toEqual(["CORS_CREDENTIALS", "CORS_MAX_AGE"]);
  });
});

describe("loadConfig: identity-provider tokens", () => {
  test("when AUTH_JWKS_URL is unset, then no provider tokens are accepted (idp undefined)", () => {
    expect(loadConfig(DEV).idp).toBeUndefined();
  });

  test("when AUTH_JWKS_URL is set, then the provider settings carry it with the documented defaults", () => {
    expect(loadConfig({ ...DEV, AUTH_JWKS_URL: "https://idp.example.com/certs" }).idp).toEqual({
      jwksUrl: "https://idp.example.com/certs",
      issuer: undefined,
      audience: undefined,
      clockToleranceSeconds: 30,
      maxTokenAgeSeconds: 24 * 3600,
      roleClaim: "roles",
      adminRole: "shop-admin",
      jwksTimeoutMs: 3000,
      jwksCooldownMs: 30_000,
    });
  });

  test("when every provider setting is given, then each is read", () => {
    const config = loadConfig({
      ...DEV,
      AUTH_JWKS_URL: "https://idp.example.com/certs",
      AUTH_ISSUER: "https://idp.example.com/realms/shop",
      AUTH_AUDIENCE: "shop-api",
      AUTH_CLOCK_TOLERANCE: "5s",
      AUTH_MAX_TOKEN_AGE: "1h",
      AUTH_ROLE_CLAIM: "realm_access.roles",
      AUTH_ADMIN_ROLE: "admin",
      AUTH_JWKS_TIMEOUT_MS: "1500",
      AUTH_JWKS_COOLDOWN: "1m",
    });
    expect(config.idp).toEqual({
      jwksUrl: "https://idp.example.com/certs",
      issuer: "https://idp.example.com/realms/shop",
      audience: "shop-api",
      clockToleranceSeconds: 5,
      maxTokenAgeSeconds: 3600,
      roleClaim: "realm_access.roles",
      adminRole: "admin",
      jwksTimeoutMs: 1500,
      jwksCooldownMs: 60_000,
    });
  });

  test("when a provider setting is malformed or out of range, then each is refused by name", () => {
    const problems = problemsOf({
      ...DEV,
      AUTH_JWKS_URL: "idp.example.com/certs",
      AUTH_CLOCK_TOLERANCE: "10m",
      AUTH_MAX_TOKEN_AGE: "forever",
      AUTH_ROLE_CLAIM: "realm_access..roles",
      AUTH_JWKS_TIMEOUT_MS: "50",
      AUTH_JWKS_COOLDOWN: "0s",
    });
    expect(namesIn(problems)).toEqual([
      "AUTH_CLOCK_TOLERANCE",
      "AUTH_JWKS_COOLDOWN",
      "AUTH_JWKS_TIMEOUT_MS",
      "AUTH_JWKS_URL",
      "AUTH_MAX_TOKEN_AGE",
      "AUTH_ROLE_CLAIM",
    ]);
  });

  test("when AUTH_ISSUER or AUTH_AUDIENCE is set without AUTH_JWKS_URL, then it is refused: it would check nothing", () => {
    const problems = problemsOf({ ...DEV, AUTH_ISSUER: "https://idp.example.com", AUTH_AUDIENCE: "shop-api" });
    expect(namesIn(problems)).toEqual(["AUTH_AUDIENCE", "AUTH_ISSUER"]);
    expect(problems[0]).toContain("set AUTH_JWKS_URL too");
  });
});

describe("shop serve with a bad configuration", () => {
  // A database that must never be created: a process that starts anything would create it first.
  let database: TestDatabase;
  const untouched = `shop_test_config_never_${crypto.randomUUID().slice(0, 8)}`;
  const prefix = testPrefix("config");

  beforeAll(async () => {
    database = await createTestDatabase("config");
  });
  afterAll(async () => {
    await stopAllProcesses();
    await database?.drop();
  });

  const envWith = (extra: Record<string, string | undefined>) => {
    const url = new URL(database.url);
    url.pathname = `/${untouched}`;
    return { ...testEnv(database, prefix), DATABASE_URL: url.toString(), LOG_LEVEL: "info", ...extra };
  };

  async function databaseExists(name: string): Promise<boolean> {
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      return (await sql`select 1 from pg_database where datname = ${name}`).length > 0;
    } finally {
      await sql.end();
    }
  }

  test("when PORT, MODULES and AUTH_SECRET are all bad, then it exits non-zero at once naming all three in one message, and starts nothing", async () => {
    const result = await runCli(["serve"], envWith({ PORT: "abc", MODULES: "orders,payments", AUTH_SECRET: "short" }));
    expect(result.code).not.toBe(0);
    expect(result.durationMs).toBeLessThan(5_000);

    const messages = result.stderr.split(/\n(?=\S)/).filter((m) => m.includes("Invalid configuration"));
    expect(messages).toHaveLength(1);
    const [message] = messages;
    for (const name of ["PORT", "MODULES", "AUTH_SECRET"]) expect(message).toMatch(new RegExp(`^\\s+- ${name}: `, "m"));
    expect(message).toContain("payments");
    expect(message).not.toContain('"short"');

    expect(result.stdout + result.stderr).not.toContain("shop is up");
    expect(result.stdout).not.toContain("shop is serving");
    expect(await databaseExists(untouched)).toBe(false);
  });

  test("when started without NODE_ENV and without AUTH_SECRET, then it refuses to start with exit code 2, saying how to fix each", async () => {
    // The test runner sets NODE_ENV=test in this process; the shop must see it unset, as `./dist/shop` by hand does.
    const result = await runCli(["serve"], envWith({ NODE_ENV: undefined, AUTH_SECRET: undefined }));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Invalid configuration");
    expect(result.stderr).toMatch(/- AUTH_SECRET: .*NODE_ENV is unset, which means production/);
    expect(result.stderr).toMatch(/set AUTH_SECRET to a secret of at least 32 characters/i);
    expect(result.stderr).toContain("NODE_ENV=development");
    expect(result.stderr).not.toContain(DEVELOPMENT_AUTH_SECRET);
    expect(result.stdout + result.stderr).not.toContain("shop is up");
    expect(await databaseExists(untouched)).toBe(false);
  });

  test("when NODE_ENV=production runs with the development AUTH_SECRET, then it refuses to start", async () => {
    const result = await runCli(["serve"], envWith({ NODE_ENV: "production", AUTH_SECRET: DEVELOPMENT_AUTH_SECRET }));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("Invalid configuration");
    expect(result.stderr).toMatch(/AUTH_SECRET: .*NODE_ENV=production/);
    expect(result.stderr).not.toContain(DEVELOPMENT_AUTH_SECRET);
    expect(result.stdout + result.stderr).not.toContain("shop is up");
    expect(await databaseExists(untouched)).toBe(false);
  });

  test("when NODE_ENV=production sets no AUTH_SECRET at all, then the development default is refused too", async () => {
    const result = await runCli(["serve"], envWith({ NODE_ENV: "production", AUTH_SECRET: undefined }));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/AUTH_SECRET: .*NODE_ENV=production/);
    expect(await databaseExists(untouched)).toBe(false);
  });
});
