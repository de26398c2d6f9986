import { createHash } from "node:crypto";
import type { Order } from "./order.ts";

/** Longest `Idempotency-Key` accepted. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** An `Idempotency-Key` is printable ASCII (space to tilde): it is echoed in logs and stored as text. */
export const IDEMPOTENCY_KEY_PATTERN = "^[\\x20-\\x7E]+$";

/** How long a key is remembered: a retry within this window gets the first answer again. */
export const IDEMPOTENCY_KEY_RETENTION_MS = 24 * 60 * 60 * 1000;

/**
 * A claim older than this whose request never finished (the process died mid-request) is abandoned:
 * a retry with the same key and body may take it over. Far above any sane placement time.
 */
export const IDEMPOTENCY_CLAIM_TIMEOUT_MS = 60 * 1000;

export const IDEMPOTENCY_KEY_STATUSES = ["in_flight", "completed"] as const;
export type IdempotencyKeyStatus = (typeof IDEMPOTENCY_KEY_STATUSES)[number];

/** What is known about a key another request already claimed. */
export interface ExistingKey {
  requestHash: string;
  status: IdempotencyKeyStatus;
  /** The order the first request placed, as it was then; null while that request is still running. */
  placedOrder: Order | null;
}

export type KeyVerdict =
  /** Same request, already answered: answer with the order it placed, as it was then. */
  | { kind: "replay"; order: Order }
  /** Same request, still being processed by whoever claimed it. */
  | { kind: "in-flight" }
  /** The key was used for a different request: a client bug, never silently replayed. */
  | { kind: "reused" };

/** What a request carrying a key that is already taken gets. */
export function judgeExistingKey(existing: ExistingKey, requestHash: string): KeyVerdict {
  if (existing.requestHash !== requestHash) return { kind: "reused" };
  if (existing.status === "completed" && existing.placedOrder) return { kind: "replay", order: existing.placedOrder };
  return { kind: "in-flight" };
}

/** sha256 (hex) of the canonical JSON of `value`: equal for equal requests whatever their key order. */
export function requestHash(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

/**
 * JSON with object keys sorted at every depth (array order kept: it means something, e.g. line order),
 * so two encodings of the same request hash the same.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
