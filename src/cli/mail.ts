import { parseArgs } from "node:util";
import { retryFailedMail } from "../../modules/notification/index.ts";
import type { Config } from "../config.ts";
import { openDatabase } from "../platform/db.ts";
import { isUuid } from "../platform/formats.ts";

const USAGE = "usage: shop mail retry [--id NOTIFICATION_ID ...]";

/**
 * `shop mail retry [--id ID ...]`: puts failed e-mails (all of them, or the given ids) back to pending with fresh
 * attempts; the running shop's dispatcher sends them. Prints one JSON line per e-mail put back, and on stderr what
 * was left alone and a summary. Exits 0 when every given id was retried (or none was given), 1 when one was not
 * failed or does not exist, 2 on bad usage.
 */
export async function mailCommand(config: Config, args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { id: { type: "string", multiple: true } }, allowPositionals: true, strict: true });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { positionals, values } = parsed;
  if (positionals.length !== 1 || positionals[0] !== "retry") {
    console.error(USAGE);
    return 2;
  }
  const invalid = (values.id ?? []).filter((id) => !isUuid(id));
  if (invalid.length > 0) {
    console.error(`not an e-mail id (a UUID, as GET /notifications shows it): ${invalid.map((id) => JSON.stringify(id)).join(", ")}\n${USAGE}`);
    return 2;
  }
  const ids = values.id?.map((id) => id.toLowerCase());

  const database = openDatabase(config.moduleDatabaseUrls.notification, { max: 1, applicationName: "shop:mail-retry", prepare: config.databasePrepare });
  try {
    const { retried, leftAlone } = await retryFailedMail(database.db, ids);
    for (const mail of retried) {
      console.log(JSON.stringify({ retried: mail.id, orderId: mail.orderId, template: mail.template, to: mail.to, lastError: mail.lastError }));
    }
    for (const { id, status } of leftAlone) {
      console.error(status === "unknown" ? `${id}: no such e-mail` : `${id}: not failed (${status}), left alone`);
    }
    console.error(`${retried.length} failed e-mail(s) put back to pending with fresh attempts; the running dispatcher sends them`);
    return leftAlone.length > 0 ? 1 : 0;
  } finally {
    await database.close();
  }
}
