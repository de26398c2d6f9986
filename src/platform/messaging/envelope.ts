import { Type as t, type Static } from "@sinclair/typebox";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import type { TSchema } from "@sinclair/typebox";
import { Uuid } from "../formats.ts";
import { currentTraceparent, TRACEPARENT_PATTERN } from "../tracing/spans.ts";
import type { EventData, EventDefinition } from "./event.ts";

/** The JSON body of every message on the bus. Its descriptions are documentation: the AsyncAPI document shows them. */
export const EnvelopeSchema = t.Object({
  id: Uuid({ description: "The message id (a UUIDv7), also the AMQP message-id: a redelivered or re-published copy has the same one" }),
  name: t.String({ minLength: 1, maxLength: 200, description: "The event's name, also the routing key and the AMQP type" }),
  version: t.Integer({ minimum: 1, description: "The version of the event's data schema" }),
  occurredAt: t.String({ minLength: 1, maxLength: 40, description: "When the event happened (ISO 8601, UTC), also the AMQP timestamp" }),
  source: t.String({ minLength: 1, maxLength: 100, description: "The module that published it, also the AMQP app-id" }),
  correlationId: t.String({
    minLength: 1,
    maxLength: 200,
    description: "The correlation id of the request (X-Correlation-Id) that caused it, passed on to every event it leads to",
  }),
  causationId: t.Optional(t.String({ minLength: 1, maxLength: 200, description: "The id of the message whose handling published this one" })),
  traceparent: t.Optional(
    t.String({
      pattern: TRACEPARENT_PATTERN,
      description:
        "The W3C trace context of the span that wrote the event to the outbox (only while tracing is on): the relay's " +
        "publish span is its child. Messages without it (from before, or from a process with tracing off) are accepted.",
    }),
  ),
  data: t.Unknown({ description: "The event's data, as its schema (per name and version) says" }),
});
export type Envelope = Static<typeof EnvelopeSchema>;

// Every message is checked twice (publish and consume): compile each schema once, not walk it per call.
const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();
function checkerOf(schema: TSchema): TypeCheck<TSchema> {
  let checker = compiled.get(schema);
  if (!checker) compiled.set(schema, (checker = TypeCompiler.Compile(schema)));
  return checker;
}

export interface EnvelopeMeta {
  correlationId: string;
  causationId?: string;
  /** The trace context the event is made in; default: the span active here (none while tracing is off). */
  traceparent?: string;
}

export function createEnvelope<E extends EventDefinition>(
  event: E,
  data: EventData<E>,
  source: string,
  meta: EnvelopeMeta,
): Envelope {
  const envelope: Envelope = {
    id: Bun.randomUUIDv7(),
    name: event.name,
    version: event.version,
    occurredAt: new Date().toISOString(),
    source,
    correlationId: meta.correlationId,
    data,
  };
  if (meta.causationId) envelope.causationId = meta.causationId;
  const traceparent = meta.traceparent ?? currentTraceparent();
  if (traceparent) envelope.traceparent = traceparent;
  return envelope;
}

export type ParseResult = { ok: true; envelope: Envelope } | { ok: false; reason: string };

/** Parses and validates a message body; a failure carries a reason fit for a DLQ header. */
export function parseEnvelope(body: string | null): ParseResult {
  if (body === null || body === "") return { ok: false, reason: "empty body" };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return { ok: false, reason: `invalid JSON: ${(error as Error).message}` };
  }
  if (!checkerOf(EnvelopeSchema).Check(value)) return { ok: false, reason: `invalid envelope: ${firstErrors(EnvelopeSchema, value)}` };
  return { ok: true, envelope: value as Envelope };
}

/** Validates an envelope's data against the event's schema. */
export function checkData(event: EventDefinition, data: unknown): string | undefined {
  return checkerOf(event.schema).Check(data) ? undefined : `invalid ${event.name} v${event.version} data: ${firstErrors(event.schema, data)}`;
}

function firstErrors(schema: TSchema, value: unknown): string {
  return [...checkerOf(schema).Errors(value)]
    .slice(0, 5)
    .map((e) => `${e.path || "/"} ${e.message}`)
    .join("; ");
}
