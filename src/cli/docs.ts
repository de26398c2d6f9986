import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { Config } from "../config.ts";
import { eventsDocument } from "../app.ts";

/**
 * `shop docs [--out FILE]`: the AsyncAPI document of the events (what GET /docs/asyncapi.json serves, with this
 * configuration's AMQP_PREFIX) on stdout, or written to FILE. Touches neither the database nor the broker.
 */
export async function docsCommand(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { out: { type: "string" } }, strict: true });
  const json = `${JSON.stringify(eventsDocument(config.amqpPrefix), null, 2)}\n`;
  if (values.out === undefined) {
    process.stdout.write(json);
    return 0;
  }
  try {
    await writeFile(values.out, json);
  } catch (error) {
    console.error(`cannot write ${values.out}: ${(error as Error).message}`);
    return 1;
  }
  console.error(`AsyncAPI document written to ${values.out}`);
  return 0;
}
