import type { Static, TSchema } from "@sinclair/typebox";

/** A named, versioned integration event and the TypeBox schema of its `data`. */
export interface EventDefinition<N extends string = string, S extends TSchema = TSchema> {
  readonly name: N;
  readonly version: number;
  readonly schema: S;
}

export type EventData<E extends EventDefinition> = Static<E["schema"]>;

/** Declares an event of a module's published language (used in each module's contract.ts). */
export function defineEvent<N extends string, S extends TSchema>(name: N, version: number, schema: S): EventDefinition<N, S> {
  return { name, version, schema };
}
