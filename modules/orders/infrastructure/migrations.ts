import { dirname } from "node:path";
import journal from "../../../drizzle/orders/meta/_journal.json" with { type: "file" };

// `type: "file"` makes Bun hand over the file's path (TypeScript still types it as the JSON content).
const journalPath = journal as unknown as string;

/** drizzle-kit's folder for this module; inside the compiled binary it is /$bunfs/root/drizzle/orders. */
export const migrationsFolder = dirname(dirname(journalPath));
