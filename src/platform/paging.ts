import { InvalidError } from "./errors.ts";

/** Page size of every list: `limit` from 1 to MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE when left out (unless the list says otherwise). */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
/** Longest `cursor` a list takes; the cursors it hands out are far shorter. */
export const MAX_CURSOR_LENGTH = 512;

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/**
 * How a list pages by keyset: what the cursor of a page ending at a row holds, and where a cursor says the next
 * page starts. Keyset rather than offsets: rows added or removed between two pages shift nothing.
 */
export interface Keyset<Row, Position> {
  /** Code of the 422 for a cursor the list did not hand out, e.g. `ORDERS.INVALID_CURSOR`. */
  invalidCursorCode: string;
  /** The JSON a cursor carries for a page that ends at `row`. */
  cursorOf(row: Row): unknown;
  /** The position a cursor's JSON stands for, or undefined when no page could end there (a forged cursor). */
  positionOf(payload: unknown): Position | undefined;
}

/**
 * The opaque `cursor` of a page: base64url of JSON. Clients pass it back unchanged; its inside may change
 * without notice.
 */
export function encodeCursor(payload: unknown): string {
  return Buffer.from(JSON.stringify(payload), "utf8").toString("base64url");
}

/** The JSON inside a cursor, or undefined when the text is not exactly what `encodeCursor` makes of some JSON. */
export function decodeCursor(cursor: string): unknown {
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  // Round-tripping refuses text that merely decodes to JSON (stray bits, blanks, another spelling of the same JSON).
  return encodeCursor(payload) === cursor ? payload : undefined;
}

/**
 * One page of a list: `fetch` is asked for one row more than the page holds (which tells whether another page
 * follows, without a count), after the position the request's cursor stands for. A cursor the list did not
 * hand out is a 422 naming `/cursor`, before anything is read.
 */
export async function readPage<Row, Position>(
  keyset: Keyset<Row, Position>,
  request: { limit?: number; cursor?: string; defaultLimit?: number },
  fetch: (page: { after: Position | undefined; limit: number }) => Promise<Row[]>,
): Promise<Page<Row>> {
  const limit = Math.min(Math.max(request.limit ?? request.defaultLimit ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
  const after = request.cursor === undefined ? undefined : positionOf(keyset, request.cursor);
  const rows = await fetch({ after, limit: limit + 1 });
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyset.cursorOf(last)) : null };
}

function positionOf<Row, Position>(keyset: Keyset<Row, Position>, cursor: string): Position {
  const payload = decodeCursor(cursor);
  const position = payload === undefined ? undefined : keyset.positionOf(payload);
  if (position === undefined) {
    throw new InvalidError(keyset.invalidCursorCode, "The cursor is not one this API handed out; start again without it.", {
      errors: [{ in: "query", field: "/cursor", message: "Invalid cursor" }],
    });
  }
  return position;
}
