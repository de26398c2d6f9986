import type { Parameters } from "fast-check";

// What the hostile-input tests (src/hostile/) share: fast-check settings and the check every answer must pass.

/**
 * fast-check settings: `FC_SEED` replays a run (fast-check prints the seed and path of any failure),
 * `FC_NUM_RUNS` overrides every property's number of runs (e.g. a long soak: FC_NUM_RUNS=5000).
 */
export function propertyParameters<T>(numRuns: number): Parameters<T> {
  const seed = process.env.FC_SEED;
  const runs = process.env.FC_NUM_RUNS;
  return {
    numRuns: runs ? Number(runs) : numRuns,
    ...(seed ? { seed: Number(seed) } : {}),
  };
}

export interface Answer {
  status: number;
  contentType: string | null;
  /** The body as text (an empty string for none). */
  text: string;
  /** The parsed body of a problem document, else undefined. */
  problem?: Record<string, unknown>;
}

const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Traces of an internal error that must never reach a client: driver and ORM names, SQL wrappers, stack frames. */
export const INTERNAL_ERROR_TRACES = /Failed query|DrizzleQueryError|PostgresError|drizzle-orm|node_modules|(?:\n|\\n)\s+at |\bat .+\.(?:ts|js):\d+/;

/**
 * Reads the answer and checks what every answer of the shop promises, whatever it was sent: never a 5xx;
 * every 4xx is `application/problem+json` with `status` equal to the HTTP status and a `title`, and shows no
 * internals (INTERNAL_ERROR_TRACES); the echoed `X-Request-Id` is a sane token (junk sent in that header is
 * never reflected).
 * Throws an Error naming the broken promise and showing the answer.
 */
export async function readCheckedAnswer(res: Response, options: { allowServerError?: boolean } = {}): Promise<Answer> {
  const text = await res.text();
  const contentType = res.headers.get("content-type");
  const answer: Answer = { status: res.status, contentType, text };
  const fail = (why: string) => {
    throw new Error(`${why}: ${res.status} ${contentType ?? "(no content-type)"} ${text.slice(0, 500)}`);
  };
  if (res.status >= 500 && !options.allowServerError) fail("a server error");
  const requestId = res.headers.get("x-request-id");
  if (requestId !== null && !SANE_REQUEST_ID.test(requestId)) fail(`X-Request-Id echoed as ${JSON.stringify(requestId)}`);
  if (res.status >= 400) {
    if (INTERNAL_ERROR_TRACES.test(text)) fail("an error that shows internals");
    if (contentType !== "application/problem+json") fail("an error that is not application/problem+json");
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      fail("a problem document that is not JSON");
    }
    const problem = body as Record<string, unknown>;
    if (problem === null || typeof problem !== "object" || Array.isArray(problem)) fail("a problem document that is not an object");
    if (problem.status !== res.status) fail("a problem document whose status differs from the HTTP status");
    if (typeof problem.title !== "string" || problem.title === "") fail("a problem document without a title");
    answer.problem = problem;
  }
  return answer;
}
