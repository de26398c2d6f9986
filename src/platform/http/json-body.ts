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
 * - keys named `toString` or `valueOf` are dropped from every object, as Elysia drops any property a schema
 *   does not name (no field of the API has these names). Left in, they shadow the conversion methods, and when
 *   such a value fails validation Elysia's ValidationError puts it in a template string, which throws
 *   ("No default value"): a 500 instead of a 422 for `{"name": [{"toString": null}]}`.
 * An empty body is left to Elysia (absent for an optional body, 400 otherwise); other media types too.
 * Whatever this throws, Elysia wraps in a ParseError, which answers 400.
 */
export async function parseJsonBody({ request }: { request: Request }, contentType: string): Promise<unknown> {
  if (!JSON_MEDIA_TYPE.test(contentType)) return undefined;
  const text = await request.clone().text();
  if (text.trim() === "") return undefined;
  const value: unknown = JSON.parse(text);
  checkShape(value, MAX_JSON_DEPTH);
  return value;
}

const CONVERSION_KEYS = ["toString", "valueOf"];

/**
 * Throws when arrays and objects nest deeper than `limit` in `value`; drops the keys that would shadow a
 * conversion method. Iterative: no recursion to overflow, and no further than `limit + 1` levels.
 */
function checkShape(value: unknown, limit: number): void {
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (current === null || typeof current !== "object") continue;
    if (depth + 1 > limit) throw new Error(`JSON body nested deeper than ${limit} levels`);
    if (!Array.isArray(current)) for (const key of CONVERSION_KEYS) delete (current as Record<string, unknown>)[key];
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
}
