import journal from "../../../drizzle/orders/meta/_journal.json" with { type: "file" };
import { migrationsFolderOf } from "../../../src/platform/migration-history.ts";

/** drizzle-kit's folder for this module; inside the compiled binary it is /$bunfs/root/drizzle/orders. */
export const migrationsFolder = migrationsFolderOf(journal);
