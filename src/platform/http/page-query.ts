import { t } from "elysia";
import { DEFAULT_PAGE_SIZE, MAX_CURSOR_LENGTH, MAX_PAGE_SIZE } from "../paging.ts";
import { QueryInteger } from "./integer-schemas.ts";

/**
 * The query parameters of a list (spread them into its query schema): `limit`, 1 to MAX_PAGE_SIZE, and
 * `cursor`, the previous page's `nextCursor`. `defaultLimit` is what the list reads when `limit` is left out
 * (documented here; the list passes the same number to `readPage`).
 */
export function pageQuery(options: { defaultLimit?: number } = {}) {
  return {
    limit: t.Optional(QueryInteger({ minimum: 1, maximum: MAX_PAGE_SIZE, default: options.defaultLimit ?? DEFAULT_PAGE_SIZE })),
    cursor: t.Optional(t.String({ minLength: 1, maxLength: MAX_CURSOR_LENGTH, description: "the previous page's nextCursor" })),
  };
}

/** The `nextCursor` of a page's body. */
export const NextCursor = t.Union([t.String(), t.Null()], { description: "pass as `cursor` for the next page; null on the last page" });
