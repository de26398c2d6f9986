import { expect, test } from "bun:test";
import { decodeCursor, encodeCursor } from "../../../src/platform/paging.ts";
import { orderKeyset } from "./order-cursor.ts";

const position = { createdAt: new Date("2025-03-04T05:06:07.089Z"), id: "0195a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b" };
const positionOf = (cursor: string) => {
  const payload = decodeCursor(cursor);
  return payload === undefined ? undefined : orderKeyset.positionOf(payload);
};

test("when a cursor is encoded, then it is base64url and decodes to the same position", () => {
  const cursor = encodeCursor(orderKeyset.cursorOf(position));
  expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
  expect(positionOf(cursor)).toEqual(position);
});

test("when a cursor was not issued by us, then it decodes to nothing", () => {
  const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  for (const cursor of [
    "not a cursor",
    "abc",
    forged({ t: "yesterday", id: position.id }),
    forged({ t: position.createdAt.toISOString(), id: "1; drop table" }),
    // Real dates PostgreSQL's timestamptz cannot take: a 500 if they reached the query.
    forged({ t: "+275760-09-13T00:00:00.000Z", id: position.id }),
    forged({ t: "0000-01-01T00:00:00.000Z", id: position.id }),
    forged([1, 2]),
    forged(null),
  ]) {
    expect(positionOf(cursor)).toBeUndefined();
  }
});
