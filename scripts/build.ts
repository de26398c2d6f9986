/**
 * Builds the single deployable: one self-contained executable, dist/shop, with every module's SQL
 * migrations inside it.
 *
 * The SQL files are extra entry points and `--root . --asset-naming=[dir]/[name].[ext]` keeps their
 * paths, so inside the binary they sit at /$bunfs/root/drizzle/<module>/*.sql next to each module's
 * meta/_journal.json (embedded because modules/<m>/infrastructure/migrations.ts imports it
 * `with { type: "file" }`), which is where drizzle's migrate() looks. Without those flags the files are
 * flattened and hashed and `shop migrate` fails at run time only — CI runs the built binary for that reason.
 *
 * Not minified, and with the source map embedded: stack traces name the original files, lines and functions
 * (bun still writes .map files next to the binary; they are not needed and are removed). Extra arguments go to `bun build`
 * (e.g. `bun scripts/build.ts --target=bun-linux-arm64`).
 *
 * Usage: bun scripts/build.ts [--outfile dist/shop] [extra bun build flags]
 */
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
// Fixes installed dependencies first (idempotent): installs that skipped scripts (the Dockerfile's) get them too.
import "./patch-dependencies.mjs";

const root = resolve(import.meta.dir, "..");
const args = process.argv.slice(2);
const outfileAt = args.indexOf("--outfile");
const outfile = outfileAt >= 0 ? args.splice(outfileAt, 2)[1]! : "dist/shop";
const entry = "src/main.ts";

const sql = [...new Bun.Glob("drizzle/*/*.sql").scanSync({ cwd: root })].sort();
const journals = [...new Bun.Glob("drizzle/*/meta/_journal.json").scanSync({ cwd: root })].sort();

const command = [
  process.execPath, // the bun running this script
  "build",
  "--compile",
  "--root",
  ".",
  "--asset-naming=[dir]/[name].[ext]",
  // Keep the binary's behaviour independent of a bunfig.toml in whatever directory it is started from.
  "--no-compile-autoload-bunfig",
  // Nor a .env there: the binary's configuration is its environment, so a stray .env (NODE_ENV=development, say)
  // cannot quietly change how a production process runs.
  "--no-compile-autoload-dotenv",
  "--sourcemap=inline",
  ...args,
  entry,
  ...sql,
  "--outfile",
  outfile,
];

console.log(`Building ${outfile} from ${entry} with ${sql.length} migration file(s) from ${journals.length} module folder(s):`);
for (const file of sql) console.log(`  + ${file}`);
console.log(`$ bun ${command.slice(1).join(" ")}`);

const outdir = dirname(resolve(root, outfile));
const removeSourceMaps = () => {
  for (const file of readdirSync(outdir)) if (file.endsWith(".map")) rmSync(resolve(outdir, file));
};
mkdirSync(outdir, { recursive: true });
rmSync(resolve(root, outfile), { force: true });
removeSourceMaps();
const started = performance.now();
const build = Bun.spawnSync(command, { cwd: root, stdout: "inherit", stderr: "inherit" });
if (build.exitCode !== 0) {
  console.error(`\nbuild: FAILED — bun build exited with code ${build.exitCode}.`);
  process.exit(1);
}

removeSourceMaps();

// Every migration file and journal must be inside the binary under its own path, or `shop migrate` fails
// only when it runs. The binary lists its embedded files as /$bunfs/root/<path>.
const binary = Buffer.from(await Bun.file(resolve(root, outfile)).arrayBuffer());
const missing = [...journals, ...sql].filter((file) => !binary.includes(`/$bunfs/root/${file}`));
if (missing.length > 0) {
  console.error(`\nbuild: FAILED — not embedded in ${outfile} under their own paths:`);
  for (const file of missing) console.error(`  - ${file}`);
  console.error(
    "A module's migrations are found through its journal: modules/<m>/infrastructure/migrations.ts must import " +
      'drizzle/<m>/meta/_journal.json `with { type: "file" }` (and src/main.ts must reach that file).',
  );
  process.exit(1);
}

const bytes = statSync(resolve(root, outfile)).size;
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(
  `\nBuilt ${outfile}: ${(bytes / 1024 / 1024).toFixed(1)} MiB (${bytes} bytes) in ${seconds}s; ` +
    `${journals.length} journal(s) and ${sql.length} migration(s) embedded.`,
);
