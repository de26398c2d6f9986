import { Elysia, status, t } from "elysia";

/** A readiness probe: true (or resolving true) when the dependency answers. */
export type ReadinessCheck = () => Promise<boolean> | boolean;

const CheckState = t.Union([t.Literal("up"), t.Literal("down")]);
const Ready = t.Object({ status: t.Literal("ok"), checks: t.Record(t.String(), CheckState) });
const NotReady = t.Object({ status: t.Literal("unavailable"), checks: t.Record(t.String(), CheckState) });

/**
 * `GET /health/live` (the process answers) and `GET /health/ready` (every check passes, else 503
 * naming what is down). A check that throws or takes longer than `timeoutMs` counts as down, so a
 * hanging database cannot hang the probe.
 */
export function healthRoutes(checks: Record<string, ReadinessCheck>, options: { timeoutMs?: number } = {}) {
  const timeoutMs = options.timeoutMs ?? 2_000;
  return new Elysia({ name: "platform.health", detail: { tags: ["health"] } })
    .get("/health/live", () => ({ status: "ok" as const }), {
      response: t.Object({ status: t.Literal("ok") }),
      detail: { summary: "Liveness: the process answers" },
    })
    .get(
      "/health/ready",
      async () => {
        const names = Object.keys(checks);
        const results = await Promise.all(names.map((name) => probe(checks[name], timeoutMs)));
        const states = Object.fromEntries(names.map((name, i) => [name, results[i] ? "up" : "down"] as const));
        return results.every(Boolean)
          ? status(200, { status: "ok" as const, checks: states })
          : status(503, { status: "unavailable" as const, checks: states });
      },
      {
        response: { 200: Ready, 503: NotReady },
        detail: { summary: "Readiness: PostgreSQL and RabbitMQ answer, and each module here consumes its queue" },
      },
    );
}

async function probe(check: ReadinessCheck | undefined, timeoutMs: number): Promise<boolean> {
  if (!check) return false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(check).then((ok) => ok === true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
