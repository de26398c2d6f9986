import type { Subprocess } from "bun";
import { resolve } from "node:path";
import type { Principal } from "../platform/http/principal.ts";
import { tokenFor } from "./shop.ts";

/** The checkout's root: the CLI is started from there whatever the test runner's working directory. */
const ROOT = resolve(import.meta.dir, "../..");
const MAIN = "src/main.ts";

// Every process a test started, so `stopAllProcesses()` in afterAll can end what a failed test left running.
const running = new Set<CliProcess>();

export interface CliProcess {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** What it printed on stdout so far. */
  stdout(): string;
  /** What it printed on stderr so far. */
  stderr(): string;
  /** stdout and stderr so far, for assertions on logs and for failure messages. */
  output(): string;
  /** Resolves with the exit code once the process has ended and its output is fully read. */
  exited: Promise<number>;
  /** Waits until the output matches `pattern`; fails early when the process exits, or after `timeoutMs`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` and waits for the exit code; SIGKILL when it has not ended after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number>;
}

export interface ShopProcess extends CliProcess {
  /** `http://127.0.0.1:<port>`, the port the process really listens on (it was started with PORT=0). */
  baseUrl: string;
}

/** Starts `bun src/main.ts <args>` with `env` on top of this process's environment; never waits. */
export function spawnCli(args: string[], env: Record<string, string | undefined>): CliProcess {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], {
    cwd: ROOT,
    env: withoutUndefined({ ...process.env, ...env }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  let err = "";
  let changed = Promise.withResolvers<void>();
  const notify = () => {
    changed.resolve();
    changed = Promise.withResolvers<void>();
  };
  const pump = async (stream: ReadableStream<Uint8Array>, append: (text: string) => void) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      append(decoder.decode(chunk, { stream: true }));
      notify();
    }
  };
  const reading = Promise.all([pump(proc.stdout, (t) => (out += t)), pump(proc.stderr, (t) => (err += t))]).catch(() => {});
  const exited = (async () => {
    const code = await proc.exited;
    await reading;
    notify();
    return code;
  })();

  const handle: CliProcess = {
    proc,
    stdout: () => out,
    stderr: () => err,
    output: () => `${out}${err ? `\n--- stderr ---\n${err}` : ""}`,
    exited,
    async waitForOutput(pattern, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = (out + err).match(pattern);
        if (match) return match;
        if (proc.exitCode !== null || proc.signalCode !== null) {
          await exited;
          const late = (out + err).match(pattern);
          if (late) return late;
          throw new Error(`process exited (${proc.exitCode ?? proc.signalCode}) before printing ${pattern}; output:\n${handle.output()}`);
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; output:\n${handle.output()}`);
        await Promise.race([changed.promise, exited, Bun.sleep(Math.min(left, 200))]);
      }
    },
    async stop(signal = "SIGTERM", timeoutMs = 15_000) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  running.add(handle);
  void exited.finally(() => running.delete(handle));
  return handle;
}

/** Runs a CLI command to its end (killed after `timeoutMs`) and returns its exit code and output. */
export async function runCli(
  args: string[],
  env: Record<string, string | undefined>,
  timeoutMs = 20_000,
): Promise<{ code: number; stdout: string; stderr: string; durationMs: number }> {
  const started = performance.now();
  const cli = spawnCli(args, env);
  const timer = setTimeout(() => cli.proc.kill("SIGKILL"), timeoutMs);
  try {
    const code = await cli.exited;
    return { code, stdout: cli.stdout(), stderr: cli.stderr(), durationMs: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

// The human banner on stdout, or pino's JSON line (when LOG_LEVEL lets it through).
const LISTENING = /shop is up on http:\/\/localhost:(\d+)|"msg":"shop is serving"[^\n]*?"url":"http:\/\/localhost:(\d+)"|"url":"http:\/\/localhost:(\d+)"[^\n]*?"msg":"shop is serving"/;

/** Waits until a started `serve` process listens and tells its port. */
export async function listening(cli: CliProcess, timeoutMs = 20_000): Promise<ShopProcess> {
  const match = await cli.waitForOutput(LISTENING, timeoutMs);
  const port = Number(match[1] ?? match[2] ?? match[3]);
  return Object.assign(cli, { baseUrl: `http://127.0.0.1:${port}` });
}

/** Starts `serve` (PORT=0 unless `env` says otherwise) and waits until it listens. */
export async function spawnShop(env: Record<string, string | undefined>, timeoutMs = 20_000): Promise<ShopProcess> {
  const cli = spawnCli(["serve"], { PORT: "0", ...env });
  try {
    return await listening(cli, timeoutMs);
  } catch (error) {
    await cli.stop("SIGKILL");
    throw error;
  }
}

/** Kills every CLI process still running (call in afterAll): nothing a test started outlives the file. */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...running].map((cli) => cli.stop("SIGKILL", 5_000)));
}

/** A real HTTP request to a spawned shop: `as` signs a bearer token, `json` becomes the body. */
export async function httpRequest(baseUrl: string, path: string, init: RequestInit & { as?: Principal; json?: unknown } = {}): Promise<Response> {
  const { as, json, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (as) headers.set("authorization", `Bearer ${await tokenFor(as)}`);
  if (json !== undefined) headers.set("content-type", "application/json");
  return fetch(`${baseUrl}${path}`, { ...rest, headers, body: json !== undefined ? JSON.stringify(json) : rest.body, signal: rest.signal ?? AbortSignal.timeout(10_000) });
}

function withoutUndefined(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
