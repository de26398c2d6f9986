import type { Static, TSchema } from "@sinclair/typebox";

/** A named, versioned integration event and the TypeBox schema of its `data`. */
export interface EventDefinition<N extends string = string, S extends TSchema = TSchema> {
  readonly name: N;
  readonly version: number;
  readonly schema: S;
  /** What happened, for the event's readers: the AsyncAPI document (src/platform/messaging/asyncapi.ts) shows it. */
  readonly description?: string;
}

export type EventData<E extends EventDefinition> = Static<E["schema"]>;

/** Declares an event of a module's published language (used in each module's contract.ts). */
export function defineEvent<N extends string, S extends TSchema>(name: N, version: number, schema: S, description?: string): EventDefinition<N, S> {
  return description === undefined ? { name, version, schema } : { name, version, schema, description };
}
