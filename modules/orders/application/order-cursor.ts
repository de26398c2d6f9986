import { isUuid } from "../../../src/platform/formats.ts";
import type { OrderPosition } from "../ports.ts";


/**
 * The opaque `cursor` of a list page: base64url of the last item's (createdAt, id). Clients pass it
 * back unchanged; its inside may change without notice.
 */
export function encodeCursor(position: OrderPosition): string {
  return Buffer.from(JSON.stringify({ t: position.createdAt.toISOString(), id: position.id })).toString("base64url");
}

/** The position a cursor stands for, or undefined when it is not one we issued. */
export function decodeCursor(cursor: string): OrderPosition | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { t, id } = value as { t?: unknown; id?: unknown };
  if (typeof t !== "string" || typeof id !== "string" || !isUuid(id)) return undefined;
  const createdAt = new Date(t);
  if (Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== t) return undefined;
  // JavaScript dates reach ±275760 years; PostgreSQL's timestamptz refuses years past 9999 in this notation.
  const year = createdAt.getUTCFullYear();
  if (year < 1 || year > 9999) return undefined;
  return { createdAt, id };
}
