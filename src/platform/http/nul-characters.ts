import { InvalidError } from "../errors.ts";

/**
 * Refuses (422 `REQUEST.NUL_CHARACTER`, naming each field) any string in the body, query or path
 * parameters that contains U+0000. PostgreSQL cannot store that character in text and fails the whole
 * query ("invalid byte sequence for encoding UTF8: 0x00") — which would otherwise surface as a 500 on
 * whichever route writes or looks up the value. Run after validation, so the schema's own complaints
 * (and the route's auth checks) come first.
 */
export function refuseNulCharacters(request: { body?: unknown; query?: unknown; params?: unknown }): void {
  const errors = [
    ...nulFields("body", request.body),
    ...nulFields("query", request.query),
    ...nulFields("params", request.params),
  ];
  if (errors.length > 0) {
    throw new InvalidError("REQUEST.NUL_CHARACTER", "Text must not contain the NUL character (U+0000).", { errors });
  }
}

const MAX_REPORTED = 10;

function nulFields(part: string, value: unknown): { in: string; field: string; message: string }[] {
  const found: { in: string; field: string; message: string }[] = [];
  // Iterative: the body's depth is bounded by the JSON parser, but a loop needs no such promise.
  const pending: [unknown, string][] = [[value, ""]];
  while (pending.length > 0 && found.length < MAX_REPORTED) {
    const [current, pointer] = pending.pop()!;
    if (typeof current === "string") {
      if (current.includes("\u0000")) found.push({ in: part, field: pointer, message: "Must not contain U+0000" });
    } else if (current !== null && typeof current === "object") {
      for (const [key, child] of Object.entries(current)) {
        const childPointer = `${pointer}/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`;
        if (key.includes("\u0000")) found.push({ in: part, field: childPointer, message: "Name must not contain U+0000" });
        pending.push([child, childPointer]);
      }
    }
  }
  return found;
}
