import { expect, test } from "bun:test";
import { decodeCursor, encodeCursor, MAX_PAGE_SIZE, readPage, type Keyset } from "./paging.ts";

const rows = Array.from({ length: 7 }, (_, i) => ({ n: i + 1 }));
const byNumber: Keyset<{ n: number }, number> = {
  invalidCursorCode: "TEST.INVALID_CURSOR",
  cursorOf: (row) => ({ n: row.n }),
  positionOf: (payload) => {
    const n = typeof payload === "object" && payload !== null ? (payload as { n?: unknown }).n : undefined;
    return typeof n === "number" && Number.isInteger(n) ? n : undefined;
  },
};
// The rows after a position, as a keyset query returns them.
const fetch = async ({ after, limit }: { after: number | undefined; limit: number }) => rows.filter((r) => r.n > (after ?? 0)).slice(0, limit);

test("when a list is read page by page, then nextCursor leads through every row once and is null on the last page", async () => {
  const seen: number[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await readPage(byNumber, { limit: 3, cursor }, fetch);
    seen.push(...page.items.map((r) => r.n));
    cursor = page.nextCursor ?? undefined;
    if (cursor) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    pages++;
  } while (cursor);
  expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
  expect(pages).toBe(3);
});

test("when no limit is given, then the list's default applies, and a limit is held to 1..MAX_PAGE_SIZE", async () => {
  const many = async ({ limit }: { limit: number }) => Array.from({ length: limit }, (_, i) => ({ n: i + 1 }));
  expect((await readPage(byNumber, {}, many)).items).toHaveLength(20);
  expect((await readPage(byNumber, { defaultLimit: 50 }, many)).items).toHaveLength(50);
  expect((await readPage(byNumber, { limit: 1000 }, many)).items).toHaveLength(MAX_PAGE_SIZE);
});

test("when a cursor was not handed out by the list, then 422 with the list's code naming /cursor, and nothing is read", async () => {
  const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  let reads = 0;
  const counting = async (page: { after: number | undefined; limit: number }) => {
    reads++;
    return fetch(page);
  };
  for (const cursor of ["garbage!", "AA", "abc", forged({ n: "1" }), forged(null), forged([1]), `${forged({ n: 1 })}x`, Buffer.from('{ "n": 1 }').toString("base64url")]) {
    const failure = await readPage(byNumber, { cursor }, counting).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect({ cursor, failure }).toMatchObject({ cursor, failure: { code: "TEST.INVALID_CURSOR", details: { errors: [{ in: "query", field: "/cursor" }] } } });
  }
  expect(reads).toBe(0);
});

test("when a payload is encoded, then it decodes to the same JSON; text that is not exactly an encoding decodes to nothing", () => {
  expect(decodeCursor(encodeCursor({ sku: "MUG-1" }))).toEqual({ sku: "MUG-1" });
  expect(decodeCursor("")).toBeUndefined();
  expect(decodeCursor("e30=")).toBeUndefined();
  expect(decodeCursor("A".repeat(600))).toBeUndefined();
});
