import { FormatRegistry } from "@sinclair/typebox";
import { isUuid } from "../formats.ts";

/** Format of an integer written in a URL: decimal digits, no sign but "-", no exponent, point, blank or radix prefix. */
export const DECIMAL_INTEGER_FORMAT = "decimal-integer";
const DECIMAL_INTEGER = /^(?:0|-?[1-9][0-9]*)$/;

// Loading @elysiajs/openapi (it bundles @sinclair/typemap) replaces TypeBox's global "uuid" format with
// `(value) => z.string().uuid().safeParse(value).success`, which builds two fresh zod schemas on every
// check: ~23 µs per uuid (and garbage), paid on every `format: "uuid"` param and every uuid in a validated response.
// Same check, built once: the shop's one UUID pattern (src/platform/formats.ts) on a string — TypeBox calls a
// format only with strings.

/**
 * Registers the string formats the HTTP schemas use in TypeBox's global format registry: `decimal-integer`
 * (QueryInteger) and a fast `uuid`. Called by createHttpApp, so after @elysiajs/openapi has been loaded (which
 * sets its own `uuid`); calling it again changes nothing.
 */
export function registerFormats(): void {
  FormatRegistry.Set(DECIMAL_INTEGER_FORMAT, (value) => DECIMAL_INTEGER.test(value));
  FormatRegistry.Set("uuid", isUuid);
}
