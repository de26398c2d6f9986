import { describe, expect, test } from "bun:test";
import { parseEnvelope } from "./envelope.ts";

const envelope = {
  id: "01890a5d-ac96-774b-bcce-b302099a8057",
  name: "orders.order-placed",
  version: 1,
  occurredAt: "2024-01-01T00:00:00.000Z",
  source: "orders",
  correlationId: "c-1",
  data: {},
};

describe("envelope traceparent", () => {
  test("when a message has no traceparent (written before tracing, or with tracing off), then it is accepted", () => {
    expect(parseEnvelope(JSON.stringify(envelope)).ok).toBe(true);
  });

  test("when a message carries a W3C traceparent, then it is accepted and kept", () => {
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const parsed = parseEnvelope(JSON.stringify({ ...envelope, traceparent }));
    expect(parsed).toEqual({ ok: true, envelope: { ...envelope, traceparent } });
  });

  test("when a message carries a malformed traceparent, then it is refused with the reason", () => {
    const parsed = parseEnvelope(JSON.stringify({ ...envelope, traceparent: "00-xyz\n-01" }));
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? "" : parsed.reason).toContain("/traceparent");
  });
});
