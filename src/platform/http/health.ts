import { Elysia, status, t } from "elysia";

/** A readiness probe: true (or resolving true) when the dependency answers. */
export type ReadinessCheck = () => Promise<boolean> | boolean;

/** A probe and what its being down means for the instance. */
export interface Readiness {
  check: ReadinessCheck;
  /**
   * `unavailable` (the default): down → 503, take this instance out of the load balancer. `degraded`: down → still
   * 200 (the instance does its job, partly later), the body says `degraded`.
   */
  whenDown?: "unavailable" | "degraded";
  /**
   * The check this one cannot be up without (a queue's consumer needs the broker): while that one is down, this
   * one being down counts as `degraded` only — the cause is already named, and judged, there.
   */
  needs?: string;
}

const CheckState = t.Union([t.Literal("up"), t.Literal("down")]);
const Checks = t.Record(t.String(), CheckState);
const Ready = t.Object({ status: t.Union([t.Literal("ok"), t.Literal("degraded")]), checks: Checks });
const NotReady = t.Object({ status: t.Literal("unavailable"), checks: Checks });

/**
 * `GET /health/live` (the process answers) and `GET /health/ready`: 200 `ok` when every check passes, 200
 * `degraded` when only checks that do not stop the instance from serving are down, else 503 `unavailable`;
 * `checks` names each one up or down. A check that throws or takes longer than `timeoutMs` counts as down, so a
 * hanging database cannot hang the probe. A bare function is a check whose being down makes the instance unavailable.
 */
export function healthRoutes(checks: Record<string, ReadinessCheck | Readiness>, options: { timeoutMs?: number } = {}) {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const specs = Object.entries(checks).map(([name, check]) => [name, typeof check === "function" ? { check } : check] as const);
  return new Elysia({ name: "platform.health", detail: { tags: ["health"] } })
    .get("/health/live", () => ({ status: "ok" as const }), {
      response: t.Object({ status: t.Literal("ok") }),
      detail: { summary: "Liveness: the process answers" },
    })
    .get(
      "/health/ready",
      async () => {
        const results = await Promise.all(specs.map(([, spec]) => probe(spec.check, timeoutMs)));
        const up = new Map(specs.map(([name], i) => [name, results[i]!]));
        const states = Object.fromEntries(specs.map(([name]) => [name, up.get(name) ? "up" : "down"] as const));
        const effects = specs.filter(([name]) => !up.get(name)).map(([, spec]) => effectOfDown(spec, up));
        if (effects.includes("unavailable")) return status(503, { status: "unavailable" as const, checks: states });
        return status(200, { status: effects.length > 0 ? ("degraded" as const) : ("ok" as const), checks: states });
      },
      {
        response: { 200: Ready, 503: NotReady },
        detail: {
          summary:
            "Readiness: 503 when PostgreSQL is down or a module here does not consume its queue while RabbitMQ is up; " +
            "200 `degraded` when RabbitMQ is down (orders are still accepted into the outbox)",
        },
      },
    );
}

function effectOfDown(spec: Readiness, up: Map<string, boolean>): "unavailable" | "degraded" {
  if (spec.needs !== undefined && up.get(spec.needs) === false) return "degraded";
  return spec.whenDown ?? "unavailable";
}

async function probe(check: ReadinessCheck, timeoutMs: number): Promise<boolean> {
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
