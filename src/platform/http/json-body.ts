/** Deepest nesting of arrays and objects a JSON body may have; the API's own bodies need three levels. */
export const MAX_JSON_DEPTH = 32;

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;

/**
 * Elysia `onParse` hook for JSON bodies, stricter than Elysia's own parser in two ways:
 * - a body that is not JSON is always refused (400). Elysia's parser swallows the parse error when the
 *   route's body is optional, so `{garbage` would silently count as "no body" and the request go through.
 * - a body nested deeper than MAX_JSON_DEPTH is refused (400) before it reaches validation: Elysia's
 *   ValidationError JSON.stringify()s the value it refuses, which for a deep enough body (a 1 MB
 *   `[[[[…`) burns seconds of CPU and ends in a stack overflow, i.e. a 500.
 * An empty body is left to Elysia (absent for an optional body, 400 otherwise); other media types too.
 * Whatever this throws, Elysia wraps in a ParseError, which answers 400.
 */
export async function parseJsonBody({ request }: { request: Request }, contentType: string): Promise<unknown> {
  if (!JSON_MEDIA_TYPE.test(contentType)) return undefined;
  const text = await request.clone().text();
  if (text.trim() === "") return undefined;
  const value: unknown = JSON.parse(text);
  if (nestingDepth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) throw new Error(`JSON body nested deeper than ${MAX_JSON_DEPTH} levels`);
  return value;
}

/** How deep arrays and objects nest in `value`, counting no further than `limit + 1`. Iterative: no recursion to overflow. */
function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (current === null || typeof current !== "object") continue;
    if (depth + 1 > limit) return depth + 1;
    deepest = Math.max(deepest, depth + 1);
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return deepest;
}
