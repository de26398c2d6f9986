/**
 * `npm start` and `npm run shop`: the CLI (src/main.ts) with NODE_ENV=development unless NODE_ENV is set,
 * so a fresh checkout runs with the built-in AUTH_SECRET and the demo catalog. The compiled binary and
 * the Docker image do not go through here: there an unset NODE_ENV means production.
 * Setting the variable here rather than in the script line keeps it working on every shell npm may use.
 *
 * Usage: bun scripts/run-in-development.ts <shop command> [options]
 */
export {};

process.env.NODE_ENV ||= "development";
// A dynamic import: a static one would run main.ts before the line above.
await import("../src/main.ts");
