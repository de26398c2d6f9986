#!/usr/bin/env node
/**
 * Fixes in installed dependencies whose upstream fix is not released yet. Runs after every install
 * (package.json `postinstall`) and before every build (scripts/build.ts), under Node or Bun.
 *
 * Idempotent, and it never fails an install: a file that is missing or no longer looks as expected (the
 * dependency moved on) is reported and left alone — then check whether the fix is still needed.
 *
 * postgres (postgres.js) 3.4.9 — porsager/postgres#1066, #1154, #1208 (open; fixes proposed in #1168, #1209):
 *   when a connection closes while a transaction's query is in flight, `sql.begin()` sends its ROLLBACK on that
 *   dead connection; the write is deferred with setImmediate and then runs `socket.write` on a null socket —
 *   a TypeError thrown from a timer, which ends the process. Seen in src/faults/database-outage.test.ts: any
 *   database outage under load killed the shop. The guard settles the write's queries with the same
 *   CONNECTION_CLOSED error the connection's own close path uses, instead of throwing.
 *
 * postgres (postgres.js) 3.4.9 — a prepared statement that PostgreSQL refuses after a schema change ("cached plan
 *   must not change result type", routine RevalidateCachedQuery) is retried by postgres.js at once, with a fresh
 *   describe round trip, while other queries may be pipelined behind it on the same connection. Their answers
 *   then interleave with the retry's: a query's Bind is never written, or a query reads another's description
 *   ("undefined is not an object (evaluating 'query.statement.columns.length')"), and the connection hangs for
 *   good. Seen in src/faults/schema-change.test.ts (ALTER COLUMN ... TYPE under a running shop). The patch does
 *   not retry that one case: it forgets the stale statement (the next use prepares it afresh) and fails the
 *   query, which the shop treats as transient — 503 with Retry-After over HTTP, a retry without spending an
 *   attempt for a message.
 *
 * Usage: node scripts/patch-dependencies.mjs   (or bun scripts/patch-dependencies.mjs)
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const PATCHES = [
  {
    name: "postgres: no write on a closed connection (porsager/postgres#1208)",
    files: ["node_modules/postgres/src/connection.js", "node_modules/postgres/cjs/src/connection.js", "node_modules/postgres/cf/src/connection.js"],
    marker: "shop patch: porsager/postgres#1208",
    edits: [
      {
        find: "  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)\n",
        replace:
      "  function nextWrite(fn) {\n" +
      "    if (!socket) { // shop patch: porsager/postgres#1208 — closed meanwhile: settle the queries, never throw from a timer\n" +
      "      nextWriteTimer !== null && clearImmediate(nextWriteTimer)\n" +
      "      chunk = nextWriteTimer = null\n" +
      "      error(Errors.connection('CONNECTION_CLOSED', options))\n" +
      "      return false\n" +
      "    }\n" +
      "    const x = socket.write(chunk, fn)\n",
      },
    ],
  },
  {
    name: "postgres: a re-planned prepared statement fails once instead of hanging the connection",
    files: ["node_modules/postgres/src/connection.js", "node_modules/postgres/cjs/src/connection.js", "node_modules/postgres/cf/src/connection.js"],
    marker: "shop patch: no pipelined retry of RevalidateCachedQuery",
    edits: [
      {
        find:
          "          : query.prepared && retryRoutines.has(errorResponse.routine)\n" +
          "            ? retry(query, errorResponse)\n" +
          "            : errored(errorResponse)\n",
        replace:
          "          : query.prepared && errorResponse.routine === 'RevalidateCachedQuery' // shop patch: no pipelined retry of RevalidateCachedQuery\n" +
          "            ? (delete statements[query.signature], errored(errorResponse))\n" +
          "            : query.prepared && retryRoutines.has(errorResponse.routine)\n" +
          "              ? retry(query, errorResponse)\n" +
          "              : errored(errorResponse)\n",
      },
    ],
  },
];

for (const patch of PATCHES) {
  for (const file of patch.files) {
    const path = join(root, file);
    if (!existsSync(path)) continue;
    const source = readFileSync(path, "utf8");
    if (source.includes(patch.marker)) continue;
    if (!patch.edits.every((edit) => source.includes(edit.find))) {
      console.warn(`patch-dependencies: ${file} does not look as expected; "${patch.name}" not applied (is it still needed?)`);
      continue;
    }
    writeFileSync(path, patch.edits.reduce((text, edit) => text.replace(edit.find, edit.replace), source));
    console.log(`patch-dependencies: ${patch.name} → ${file}`);
  }
}
