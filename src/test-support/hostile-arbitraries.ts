import fc from "fast-check";

// fast-check generators of hostile input for the HTTP API (src/hostile/properties.test.ts): strings,
// numbers, JSON bodies, header values, path segments and query strings a careless or malicious client sends.

/** Strings meant to break a parser, a query or a log line. */
export const NASTY_STRINGS = [
  "",
  " ",
  "\t\n",
  "\u0000",
  "a\u0000b",
  "' or 1=1 --",
  "'; drop table orders.orders; --",
  '" or ""="',
  "%",
  "%00",
  "%2F",
  "../../etc/passwd",
  "<script>alert(1)</script>",
  "${jndi:ldap://x}",
  "{{7*7}}",
  "__proto__",
  "constructor",
  "prototype",
  "null",
  "undefined",
  "NaN",
  "Infinity",
  "-0",
  "1e400",
  "0x10",
  " 5 ",
  "1.5",
  "\uFEFF",
  "\u202E",
  "\uD800",
  "😀".repeat(40),
  "é".repeat(70),
  "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫ",
] as const;

/** Any string: ASCII, full Unicode, control characters, the nasty list, and long ones. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.string({ unit: "grapheme", maxLength: 80 }),
  fc.constantFrom(...NASTY_STRINGS),
  fc.integer({ min: 60, max: 20_000 }).map((n) => "x".repeat(n)),
);

/** Numbers that are not a sane count: fractions, huge, negative, the edges of int32 and of exact doubles. */
export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(0, -0, -1, 0.5, 1.5, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e21, 1e308, -1e308, Number.MIN_VALUE),
);

/** Numeric literals JSON can carry but a JavaScript number cannot hold exactly (injected as raw text). */
export const RAW_NUMBER_LITERALS = ["1e400", "-1e400", "123456789012345678901234567890", "2147483647.0000000001", "1E2", "-0.0", "0.1e-400"] as const;
const RAW_MARK = "\u0001raw:";

/** A value that stands for a raw numeric literal in `hostileJsonText`'s output. */
export const rawNumberLiteral: fc.Arbitrary<string> = fc.constantFrom(...RAW_NUMBER_LITERALS).map((literal) => `${RAW_MARK}${literal}`);

/** A JSON scalar or small container of any type: what lands where a field of another type is expected. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileNumber,
  hostileString,
  rawNumberLiteral,
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom({}, [], [1, 2], JSON.parse('{"__proto__":{"polluted":true,"isAdmin":true}}') as unknown),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Object keys that attack the object model or a naive merge. */
export const POLLUTION_KEYS = ["__proto__", "constructor", "prototype", "hasOwnProperty", "toString", "valueOf", "isAdmin", "role"] as const;

/** Extra properties, with prototype-pollution keys among them. */
export const extraProperties: fc.Arbitrary<Record<string, unknown>> = fc.dictionary(
  fc.oneof(fc.constantFrom(...POLLUTION_KEYS), fc.string({ maxLength: 20 })),
  fc.oneof(hostileValue, fc.constant({ polluted: true, isAdmin: true })),
  { maxKeys: 4 },
);

/**
 * JSON text of `value`, where strings made by `rawNumberLiteral` become bare numeric literals and
 * `__proto__` keys stay own properties (JSON.stringify writes them like any other key).
 */
export function toJsonText(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => (v === undefined ? null : v)) ?? "null";
  return text.replace(/"\\u0001raw:([^"]*)"/g, "$1");
}

/** What the server will see when it parses `text` as JSON; undefined when it is not JSON. */
export function parsedJson(text: string): { value: unknown } | undefined {
  try {
    // Decoding the body as UTF-8 (Request.text()) drops a leading byte order mark, as the Encoding standard says.
    return { value: JSON.parse(text.replace(/^\uFEFF/, "")) as unknown };
  } catch {
    return undefined;
  }
}

/** Body texts that are not JSON, or JSON of the wrong shape at the top. */
export const malformedJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "{",
    "}",
    "[",
    '{"items":',
    '{"items":[{"sku":"A","quantity":1}',
    "{items: []}",
    "{'items': []}",
    '{"items":[],}',
    "NaN",
    "Infinity",
    "undefined",
    "\u0000",
    "\uFEFF{}",
    '{"a":"\\ud800"}',
    '{"a":"\\x41"}',
    '{"a" "b"}',
    "true false",
    "--",
    "<xml/>",
  ),
  fc.string({ unit: "binary", minLength: 1, maxLength: 200 }),
  // Nesting deep enough to overflow a naive recursive walk of the parsed value.
  fc.integer({ min: 33, max: 200_000 }).map((depth) => "[".repeat(depth) + "]".repeat(depth)),
  fc.integer({ min: 33, max: 50_000 }).map((depth) => '{"a":'.repeat(depth) + "1" + "}".repeat(depth)),
);

/** JSON media types (the shop parses all of them as JSON) and others it must not mistake for JSON. */
export const JSON_CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "application/json; charset=utf-16", "APPLICATION/JSON", "application/problem+json", "application/vnd.api+json"] as const;
export const OTHER_CONTENT_TYPES = [
  "text/plain",
  "text/html",
  "application/x-www-form-urlencoded",
  "application/octet-stream",
  "multipart/form-data",
  "multipart/form-data; boundary=x",
  "application/jsonp",
  "application/xml",
  "json",
  "",
  "*/*",
] as const;

/** True when the shop parses a body of this Content-Type as JSON. */
export function isJsonContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/(?:[\w.+-]+\+)?json$/i.test(contentType.split(";")[0]!.trim());
}

const headerChar = fc.oneof(
  { arbitrary: fc.integer({ min: 0x20, max: 0x7e }), weight: 8 },
  { arbitrary: fc.integer({ min: 0x80, max: 0xff }), weight: 1 },
  { arbitrary: fc.constant(0x09), weight: 1 },
).map((code) => String.fromCharCode(code));

/** Values a header can carry (no CR, LF or NUL: fetch refuses those before any server sees them). */
export const headerValue: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: headerChar, maxLength: 300 }),
  fc.integer({ min: 129, max: 2_000 }).map((n) => "r".repeat(n)),
  fc.constantFrom("", " ", "undefined", "null", "' or 1=1 --", "{\"a\":1}", "..", "a b", "é", "%0d%0aSet-Cookie: x=1"),
);

/** `Authorization` values that are no valid bearer token of this shop. */
export const junkAuthorization: fc.Arbitrary<string> = fc.oneof(
  headerValue,
  headerValue.map((v) => `Bearer ${v}`),
  fc.constantFrom(
    "Bearer",
    "Bearer ",
    "Bearer x.y",
    "Bearer x.y.z",
    "Bearer ..",
    "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
    "Basic YWRtaW46YWRtaW4=",
    "Digest username=admin",
    "bearer\tabc",
    "Token abc",
  ),
);

/** Noise headers on every request: junk request and correlation ids, Accept, a stray Idempotency-Key. */
export const noiseHeaders: fc.Arbitrary<Record<string, string>> = fc.record(
  {
    "x-request-id": headerValue,
    "x-correlation-id": headerValue,
    accept: fc.constantFrom("*/*", "text/html", "application/xml", "application/json;q=0", "\u00ff"),
    "accept-encoding": fc.constantFrom("gzip", "br", "identity;q=0", "*;q=0"),
    "idempotency-key": headerValue,
    "x-forwarded-for": headerValue,
  },
  { requiredKeys: [] },
);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** encodeURIComponent, with lone surrogates (which it refuses) replaced by "?". */
export function encodeUriText(text: string): string {
  return encodeURIComponent(text.replace(LONE_SURROGATE, "?"));
}

/** A path segment, already in URL form: encoded strings, raw tricks (encoded slashes, dot segments, bad escapes). */
export const hostilePathSegment: fc.Arbitrary<string> = fc.oneof(
  hostileString.map(encodeUriText),
  fc.uuid().map((id) => id.toUpperCase()),
  fc.constantFrom(
    "..",
    ".",
    "%2e%2e",
    "%2F",
    "a%2Fb",
    "a%2fb%2f..%2f..",
    "%00",
    "%",
    "%zz",
    "%E0%A4%A",
    "%C0%AF",
    "%252F",
    "'%20or%201=1%20--",
    "1;select%20pg_sleep(5)",
    "A".repeat(64),
    "A".repeat(65),
    "a".repeat(5000),
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "01234567-89ab-cdef-0123-456789abcdef0",
    "{id}",
    ":id",
    "*",
  ),
);

/** A query string (without "?"), the interesting keys with junk values, repeated keys, bracket syntax. */
export function hostileQuery(keys: readonly string[]): fc.Arbitrary<string> {
  const value = fc.oneof(
    hostileString.map(encodeUriText),
    fc.constantFrom("0", "1", "100", "101", "-1", "1.5", "1e2", "0x10", "%20", "NaN", "9007199254740993", "99999999999999999999", "%", "%zz", ""),
    fc.base64String({ maxLength: 120 }).map(encodeURIComponent),
    fc.uuid(),
  );
  const key = fc.oneof(
    { arbitrary: fc.constantFrom(...keys), weight: 6 },
    { arbitrary: fc.constantFrom(...keys).map((k) => `${k}[]`), weight: 1 },
    { arbitrary: fc.constantFrom(...keys).map((k) => `${k}[$ne]`), weight: 1 },
    { arbitrary: fc.constantFrom(...POLLUTION_KEYS, "__proto__[polluted]", "constructor[prototype][polluted]"), weight: 1 },
  );
  return fc.array(fc.tuple(key, value), { maxLength: 5 }).map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join("&"));
}
