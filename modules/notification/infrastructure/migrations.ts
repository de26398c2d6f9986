import journal from "../../../drizzle/notification/meta/_journal.json" with { type: "file" };
import { dirname } from "node:path";

// `type: "file"` makes Bun hand over the journal's path (inside the binary: /$bunfs/root/...), while
// TypeScript still types the import as the parsed JSON.
const journalPath = journal as unknown as string;

/** drizzle-kit's folder for this module; inside the compiled binary it is /$bunfs/root/drizzle/notification. */
export const migrationsFolder = dirname(dirname(journalPath));
