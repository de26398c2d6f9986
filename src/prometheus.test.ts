import { afterAll, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { MODULE_NAMES } from "./config.ts";
import { deleteBrokerObjects, testPrefix } from "./test-support/broker.ts";
import { createTestDatabase, type TestDatabase } from "./test-support/database.ts";
import { eventually } from "./test-support/eventually.ts";
import { httpRequest, spawnShop, stopAllProcesses } from "./test-support/process.ts";
import { admin, alice, TEST_RETRY_DELAYS_MS, testEnv } from "./test-support/shop.ts";

// A real Prometheus (Debian's `prometheus` package: `apt-get install -y prometheus`) scrapes a real shop process,
// with the example alert rules of deploy/prometheus/ loaded.
const PROMETHEUS = Bun.which("prometheus");
const PROMTOOL = Bun.which("promtool");
const RULES = resolve(import.meta.dir, "../deploy/prometheus/alerts.yml");
const EXAMPLE_CONFIG = resolve(import.meta.dir, "../deploy/prometheus/prometheus.yml");
if (!PROMETHEUS) console.warn("SKIPPED src/prometheus.test.ts: no `prometheus` binary on PATH (Debian: apt-get install -y prometheus)");

let database: TestDatabase | undefined;
let prefix: string | undefined;
let prometheus: Subprocess<"ignore", "pipe", "pipe"> | undefined;
let dataDir: string | undefined;

afterAll(async () => {
  prometheus?.kill("SIGKILL");
  await prometheus?.exited;
  await stopAllProcesses();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  await database?.drop();
  if (prefix) await deleteBrokerObjects(prefix, [...MODULE_NAMES], TEST_RETRY_DELAYS_MS);
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

interface PromVector {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(base: string, promql: string): Promise<PromVector[]> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`, { signal: AbortSignal.timeout(5_000) });
  const body = (await res.json()) as { status: string; data: { result: PromVector[] }; error?: string };
  if (body.status !== "success") throw new Error(`query ${promql} failed: ${body.error}`);
  return body.data.result;
}

function promtool(args: string[]): { code: number; output: string } {
  const run = Bun.spawnSync([PROMTOOL!, ...args], { stdout: "pipe", stderr: "pipe" });
  return { code: run.exitCode, output: `${run.stdout.toString()}${run.stderr.toString()}` };
}

describe("a real Prometheus", () => {
  test.skipIf(!PROMETHEUS)("when it scrapes a running shop after three orders, then PromQL returns the orders and the POST /orders 201s, and the example alert rules load and evaluate", async () => {
    // The example configuration and rules are valid as shipped.
    if (PROMTOOL) {
      for (const args of [["check", "rules", RULES], ["check", "config", EXAMPLE_CONFIG]]) {
        const checked = promtool(args);
        expect(checked.output).toContain("SUCCESS");
        expect(checked.code).toBe(0);
      }
    }

    database = await createTestDatabase("prometheus");
    prefix = testPrefix("prometheus");
    const shop = await spawnShop(testEnv(database, prefix));
    const shopPort = new URL(shop.baseUrl).port;

    dataDir = await mkdtemp(join(tmpdir(), "shop-prometheus-"));
    const config = join(dataDir, "prometheus.yml");
    await writeFile(
      config,
      [
        "global: { scrape_interval: 1s, evaluation_interval: 1s }",
        `rule_files: [${JSON.stringify(RULES)}]`,
        "scrape_configs:",
        "  - job_name: shop",
        `    static_configs: [{ targets: ["127.0.0.1:${shopPort}"] }]`,
      ].join("\n"),
    );
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    prometheus = Bun.spawn(
      [PROMETHEUS!, `--config.file=${config}`, `--storage.tsdb.path=${join(dataDir, "data")}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
    );
    let log = "";
    void (async () => {
      for await (const chunk of prometheus!.stderr) log += new TextDecoder().decode(chunk);
    })();

    const sku = `PROM-${crypto.randomUUID().slice(0, 8)}`;
    const put = await httpRequest(shop.baseUrl, `/products/${sku}`, { method: "PUT", as: admin, json: { name: "Probe", priceCents: 500, currency: "EUR", stock: 10 } });
    expect(put.status).toBe(201);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      // Orders learn the price from inventory's event within moments; until then the sku is a 422.
      const res = await eventually(() => httpRequest(shop.baseUrl, "/orders", { method: "POST", as: alice, json: { items: [{ sku, quantity: 1 }] } }), {
        accept: (r) => r.status !== 422,
        what: "orders to know the price",
        intervalMs: 100,
      });
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as { id: string }).id);
    }
    for (const id of ids) {
      await eventually(async () => ((await (await httpRequest(shop.baseUrl, `/orders/${id}`, { as: alice })).json()) as { status: string }).status, {
        accept: (status) => status === "confirmed",
        what: `order ${id} to be confirmed`,
        intervalMs: 100,
      });
    }

    const valueOf = async (promql: string) => {
      const result = await query(base, promql);
      return result.length === 1 ? Number(result[0]!.value[1]) : undefined;
    };
    const settled = (promql: string, expected: number) =>
      eventually(() => valueOf(promql), { accept: (v) => v === expected, what: `${promql} = ${expected} (prometheus log:\n${log.slice(-2000)})`, timeoutMs: 30_000, intervalMs: 500 });
    await settled('up{job="shop"}', 1);
    await settled('shop_orders_placed_total{job="shop"}', 3);
    await settled('shop_orders_confirmed_total{job="shop"}', 3);
    await settled('sum(shop_http_requests_total{job="shop", route="/orders", method="POST", status="201"})', 3);
    await settled('shop_consumer_up{job="shop", module="inventory"}', 1);

    // Every example rule parsed and evaluated against the shop's series without error; none fires on a healthy shop.
    const rules = await eventually(
      async () => {
        const res = await fetch(`${base}/api/v1/rules`, { signal: AbortSignal.timeout(5_000) });
        const body = (await res.json()) as { data: { groups: Array<{ rules: Array<{ name: string; health: string; state: string; lastError?: string }> }> } };
        return body.data.groups.flatMap((g) => g.rules);
      },
      { accept: (list) => list.length > 0 && list.every((r) => r.health === "ok"), what: "every alert rule to evaluate ok", timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(rules.map((r) => r.name)).toContain("ShopOutboxBacklog");
    expect(rules.filter((r) => r.state === "firing").map((r) => r.name)).toEqual([]);
    await shop.stop();
  });
});
