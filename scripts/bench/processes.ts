/** Starting and stopping the shop: `bun src/main.ts serve` (or the binary), its log lines kept for the report. */
import { ROOT, run, throwIfAborted, type ShopProcess } from "./context.ts";
import { call, until } from "./http.ts";

const BANNER = /shop is up on http:\/\/localhost:(\d+)/;

/** Keeps the last 200 lines of stdout+stderr and counts warn+ lines; `changed` resolves on every new chunk. */
class LogCapture {
  private text = "";
  readonly lines: string[] = [];
  readonly warnings = { count: 0, first: [] as string[] };
  private waiter = Promise.withResolvers<void>();

  get changed(): Promise<void> {
    return this.waiter.promise;
  }

  take(chunk: string): void {
    this.text += chunk;
    let nl: number;
    while ((nl = this.text.indexOf("\n")) >= 0) {
      const line = this.text.slice(0, nl);
      this.text = this.text.slice(nl + 1);
      this.lines.push(line);
      if (this.lines.length > 200) this.lines.shift();
      // Our own readiness polls answer 503 until the broker is connected: not worth reporting.
      if (/"level":(4|5|6)0\b/.test(line) && !line.includes('"path":"/health/ready"')) {
        this.warnings.count += 1;
        if (this.warnings.first.length < 5) this.warnings.first.push(line.length > 300 ? `${line.slice(0, 300)}…` : line);
      }
    }
    this.waiter.resolve();
    this.waiter = Promise.withResolvers<void>();
  }

  tail(): string {
    return [...this.lines.slice(-40), this.text].join("\n");
  }

  async pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) this.take(decoder.decode(chunk, { stream: true }));
  }
}

function spawnShopProcess(binary: string | undefined, env: Record<string, string>) {
  const command = binary ? [binary, "serve"] : [process.execPath, "src/main.ts", "serve"];
  const fullEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, ...env })) if (value !== undefined) fullEnv[key] = value;
  delete fullEnv.SMTP_URL; // e-mails are stored and logged, never sent
  return Bun.spawn(command, { cwd: ROOT, env: fullEnv, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
}

/** Starts one shop process with PORT=0 and waits for its banner and /health/ready. */
export async function spawnShop(name: string, binary: string | undefined, env: Record<string, string>): Promise<ShopProcess> {
  const proc = spawnShopProcess(binary, env);
  const log = new LogCapture();
  const reading = Promise.all([log.pump(proc.stdout), log.pump(proc.stderr)]).catch(() => {});
  const handle: ShopProcess = {
    name,
    proc,
    baseUrl: "",
    warnings: log.warnings,
    tail: () => log.tail(),
    async stop() {
      if (handle.stopped) return handle.stopped;
      const started = performance.now();
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      try {
        await proc.exited;
        await reading;
      } finally {
        clearTimeout(timer);
      }
      handle.stopped = { code: proc.exitCode ?? (proc.signalCode ? -1 : null), ms: performance.now() - started };
      return handle.stopped;
    },
  };
  run.spawned.push(handle);
  handle.baseUrl = await waitForBanner(handle, log);
  // Fully ready: 200 alone may be `degraded` (RabbitMQ not connected yet).
  await until(`${name} /health/ready`, 30_000, 100, async () => {
    const answer = await call(handle.baseUrl, "/health/ready");
    return answer.status === 200 && (answer.body as { status?: unknown } | null)?.status === "ok";
  });
  return handle;
}

async function waitForBanner(handle: ShopProcess, log: LogCapture): Promise<string> {
  const { proc, name } = handle;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const match = log.lines.join("\n").match(BANNER);
    if (match) return `http://127.0.0.1:${match[1]}`;
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${name} exited (${proc.exitCode ?? proc.signalCode}) before serving:\n${log.tail()}`);
    if (Date.now() > deadline) throw new Error(`${name} did not start serving within 60 s:\n${log.tail()}`);
    throwIfAborted();
    await Promise.race([log.changed, proc.exited, Bun.sleep(200)]);
  }
}
