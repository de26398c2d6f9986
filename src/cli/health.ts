import { parseArgs } from "node:util";
import type { Config } from "../config.ts";

const DEFAULT_TIMEOUT_MS = 3_000;

/**
 * `shop health [--timeout 3000]`: asks the shop running on this machine (`127.0.0.1:PORT`) for `/health/ready` and
 * prints its JSON answer; exits 0 when it is ready (`ok` or `degraded`), 1 when it is not, does not answer within
 * the timeout or is not running, 2 on bad usage. For container health checks: the slim image has no curl.
 */
export async function health(config: Config, args: string[]): Promise<number> {
  let timeoutMs: number;
  try {
    const { values } = parseArgs({ args, options: { timeout: { type: "string", default: String(DEFAULT_TIMEOUT_MS) } }, strict: true });
    timeoutMs = Number(values.timeout);
    if (!/^\d+$/.test(values.timeout) || timeoutMs < 1 || timeoutMs > 60_000) throw new Error(`--timeout takes milliseconds, 1–60000 (got ${JSON.stringify(values.timeout)})`);
  } catch (error) {
    console.error(`${(error as Error).message}\nusage: shop health [--timeout MS]`);
    return 2;
  }
  const url = `http://127.0.0.1:${config.port}/health/ready`;
  let res: Response;
  let body: string;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    body = await res.text();
  } catch (error) {
    const reason = (error as Error).name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (error as Error).message;
    console.log(JSON.stringify({ status: "unreachable", url, error: reason }));
    return 1;
  }
  console.log(body);
  const status = readStatus(body);
  return res.status === 200 && (status === "ok" || status === "degraded") ? 0 : 1;
}

function readStatus(body: string): unknown {
  try {
    return (JSON.parse(body) as { status?: unknown }).status;
  } catch {
    return undefined;
  }
}
