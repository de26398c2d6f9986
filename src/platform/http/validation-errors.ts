import { Kind } from "@sinclair/typebox";
import { TransformDecodeError, Value } from "@sinclair/typebox/value";
import type { ValidationError } from "elysia";

/** One bad input field: where it is (`in`), which one (a JSON Pointer, "" for the whole part) and what is wrong. */
export interface FieldError {
  in: string;
  field: string;
  message: string;
}

interface Schema {
  type?: unknown;
  format?: unknown;
  const?: unknown;
  anyOf?: Schema[];
}

interface RawValueError {
  type?: unknown;
  schema?: Schema;
  path?: unknown;
  message?: unknown;
  value?: unknown;
  errors?: Iterable<{ message?: unknown }>[];
}

const UNION = 62; // TypeBox ValueErrorType.Union

/**
 * Every bad field of an Elysia ValidationError, first problem per field. `error.all` re-runs the
 * schema's checker over the input (Elysia keeps only the first error in `valueError`).
 */
export function fieldErrors(error: ValidationError): FieldError[] {
  const seen = new Set<string>();
  const result: FieldError[] = [];
  for (const raw of error.all as RawValueError[]) {
    const field = pointer(raw.path);
    if (seen.has(field)) continue;
    seen.add(field);
    result.push({ in: part(error.type), field, message: describe(raw) });
  }
  return result;
}

function describe(raw: RawValueError): string {
  if (raw.value === undefined && raw.path !== "") return "Required property is missing";
  if (raw.type === UNION) return describeUnion(raw);
  return typeof raw.message === "string" ? raw.message : "Invalid value";
}

// TypeBox says only "Expected union value" for a union.
function describeUnion(raw: RawValueError): string {
  const members = raw.schema?.anyOf ?? [];
  if (members.length > 0 && members.every((m) => "const" in m)) {
    return `Expected one of: ${members.map((m) => JSON.stringify(m.const)).join(", ")}`;
  }
  // QueryInteger and Elysia's t.Numeric, t.BooleanString... are [a string of some format, the real type]:
  // the real type's complaint ("Expected integer to be greater or equal to 1") is the useful one.
  const [first, ...rest] = members;
  if (first?.type === "string" && typeof first.format === "string" && rest.length > 0 && raw.errors) {
    const lastAlternative = [...raw.errors].at(-1);
    for (const inner of lastAlternative ?? []) if (typeof inner.message === "string") return inner.message;
  }
  const names = members.map((m) => String(m.format ?? m.type ?? "value"));
  return names.length > 0 ? `Expected one of: ${names.join(", ")}` : "Invalid value";
}

// QueryInteger (like Elysia's t.Numeric) decodes a string and then checks bounds; when that check fails
// Elysia rethrows the inner ValidationError of type "property" (compose.ts coerceTransformDecodeError),
// which no longer knows which part or field it was: `locateDecodeFailure` finds it again when it can,
// else "request" and "" are all that can honestly be said.
function part(type: string): string {
  return type === "property" ? "request" : type;
}

/** What Elysia validated of a request, part by part: the route's schema and the value it checked. */
export type ValidatedParts = Partial<Record<"headers" | "params" | "query" | "body", { schema: unknown; value: unknown }>>;

/**
 * The part and field of a "property" ValidationError (a bound of QueryInteger/t.Numeric broken by a decoded
 * string, e.g. `?limit=0`): decodes each part again with the route's own schema, and TypeBox's
 * TransformDecodeError, unlike what Elysia rethrows, keeps the path. Undefined when no part fails that way.
 */
export function locateDecodeFailure(parts: ValidatedParts): { in: string; field: string } | undefined {
  for (const [name, entry] of Object.entries(parts)) {
    const schema = entry?.schema;
    if (schema === null || typeof schema !== "object" || !(Kind in schema)) continue;
    try {
      Value.Decode(schema as never, entry.value);
    } catch (error) {
      if (error instanceof TransformDecodeError) return { in: name, field: pointer(error.path) };
    }
  }
  return undefined;
}

// TypeBox paths are JSON Pointers already; Standard Schema ones are arrays or dotted strings.
function pointer(path: unknown): string {
  if (Array.isArray(path)) return path.map((p) => `/${String(p)}`).join("");
  if (typeof path !== "string" || path === "" || path === "root") return "";
  return path.startsWith("/") ? path : `/${path.replaceAll(".", "/")}`;
}
