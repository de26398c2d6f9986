import { Type as t, type StringOptions } from "@sinclair/typebox";

/**
 * A UUID as RFC 9562 writes it (version digit 1–8, variant 8–b), or the nil or max UUID, in either case: the one
 * pattern for ids in URLs (the "uuid" format, src/platform/http/docs.ts), events, cursors and the CLI. Every id
 * the shop makes is a version 7 UUID.
 */
export const UUID_PATTERN =
  "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$";
const UUID = new RegExp(UUID_PATTERN);

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/**
 * A UUID string schema. A pattern, not `format: "uuid"`: TypeBox only knows formats someone registered, and a
 * consumer must validate the same way whether or not Elysia (which registers them) is loaded.
 */
export function Uuid(options: StringOptions = {}) {
  return t.String({ ...options, pattern: UUID_PATTERN });
}

/** An ISO 4217 currency code, as the database's `*_currency_iso` checks also require. */
export const CURRENCY_PATTERN = "^[A-Z]{3}$";

export function Currency(options: StringOptions = {}) {
  return t.String({ description: "ISO 4217 code", ...options, pattern: CURRENCY_PATTERN });
}
