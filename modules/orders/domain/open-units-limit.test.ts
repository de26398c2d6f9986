import { expect, test } from "bun:test";
import { openUnitsExcess } from "./open-units-limit.ts";

test("a line is over the cap only when what is held plus what it asks for exceeds the limit", () => {
  const held = new Map([["A", 40], ["B", 10]]);
  expect(openUnitsExcess([{ sku: "A", quantity: 10 }, { sku: "B", quantity: 5 }, { sku: "C", quantity: 50 }], held, 50)).toEqual([]);
  expect(openUnitsExcess([{ sku: "A", quantity: 11 }, { sku: "B", quantity: 5 }, { sku: "C", quantity: 51 }], held, 50)).toEqual([
    { sku: "A", held: 40, requested: 11 },
    { sku: "C", held: 0, requested: 51 },
  ]);
});
