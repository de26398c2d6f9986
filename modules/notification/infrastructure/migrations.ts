import journal from "../../../drizzle/notification/meta/_journal.json" with { type: "file" };
import { migrationsFolderOf } from "../../../src/platform/migration-history.ts";

/** drizzle-kit's folder for this module; inside the compiled binary it is /$bunfs/root/drizzle/notification. */
export const migrationsFolder = migrationsFolderOf(journal);
