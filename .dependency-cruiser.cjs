/**
 * Import rules of the modular monolith (README: Architecture), checked in CI by `npm run lint:deps`
 * (scripts/check-deps.ts, which also fails when nothing was cruised).
 *
 * Paths are relative to the repository root. `$1` in a `to` pattern is the module name captured by
 * the rule's `from` pattern, so one rule covers orders, inventory and notification alike.
 */

/** Tests and their helpers do not ship; they may reach for test-support and dev dependencies. */
const TESTS = ["\\.test\\.ts$", "^src/test-support/", "^modules/[^/]+/test-support/"];

/** Node and Bun built-ins that talk to the outside world (files, sockets, processes, databases). */
const IO_BUILTINS =
  "^(node:)?(fs|fs/promises|net|tls|dgram|dns|dns/promises|http|https|http2|child_process|cluster|worker_threads|readline|repl|inspector)$" +
  "|^bun$|^bun:(sqlite|ffi|jsc)$";

/** npm packages that do I/O or belong to a framework. */
const IO_PACKAGES =
  "(^|/)node_modules/(drizzle-orm|postgres|elysia|@elysiajs|@cloudamqp|nodemailer|pino|smtp-server)/";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "Circular imports make load order matter and blur what depends on what. Break the cycle.",
      from: {},
      to: { circular: true },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment: "This import cannot be resolved on disk: a typo, a missing file or a package missing from package.json.",
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: "module-isolation",
      severity: "error",
      comment:
        "A module sees another module only through its contract.ts (events and their schemas). " +
        "Anything else would couple the modules and stop them being split into services.",
      from: { path: "^modules/([^/]+)/" },
      to: { path: "^modules/", pathNot: ["^modules/$1/", "^modules/[^/]+/contract\\.ts$"] },
    },
    {
      name: "module-only-allowed-imports",
      severity: "error",
      comment:
        "A module may import its own files, src/platform/**, other modules' contract.ts, its own drizzle/<module>/ " +
        "migrations and npm packages — not the composition root (src/app.ts, src/main.ts, src/config.ts) " +
        "or another module's migrations.",
      from: { path: "^modules/([^/]+)/", pathNot: TESTS },
      to: {
        dependencyTypesNot: ["core"],
        pathNot: ["^modules/", "^src/platform/", "^drizzle/$1/", "(^|/)node_modules/"],
      },
    },
    {
      name: "module-tests-only-allowed-imports",
      severity: "error",
      comment:
        "A module's tests (and its own test-support/) may import what the module may import, plus " +
        "src/test-support/**. Whole-system tests that need the composition root belong in src/.",
      from: { path: "^modules/([^/]+)/(.+\\.test\\.ts$|test-support/)" },
      to: {
        dependencyTypesNot: ["core"],
        pathNot: ["^modules/", "^src/platform/", "^src/test-support/", "^drizzle/$1/", "(^|/)node_modules/"],
      },
    },
    {
      name: "modules-record-metrics-through-the-platform",
      severity: "error",
      comment:
        "A module counts and times what it does through its context's `metrics` (src/platform/metrics/module-metrics.ts); " +
        "the process's registry, its names and its exposition are the platform's. No module imports prom-client.",
      from: { path: "^modules/" },
      to: { path: "(^|/)node_modules/prom-client/" },
    },
    {
      name: "contract-is-schemas-only",
      severity: "error",
      comment:
        "contract.ts is the module's published language: TypeBox schemas, event names and the event envelope type " +
        "(src/platform/messaging/event.ts), and the platform's shared value formats (src/platform/formats.ts). " +
        "Nothing else, so importing it never drags in a module's internals.",
      from: { path: "^modules/[^/]+/contract\\.ts$" },
      to: { pathNot: ["(^|/)node_modules/@sinclair/typebox/", "^src/platform/messaging/event\\.ts$", "^src/platform/formats\\.ts$"] },
    },
    {
      name: "contract-building-blocks-are-schemas-only",
      severity: "error",
      comment:
        "What a contract.ts may import from the platform (event.ts, formats.ts) imports only TypeBox itself, " +
        "so a contract stays schemas all the way down.",
      from: { path: "^src/platform/(messaging/event|formats)\\.ts$" },
      to: { pathNot: ["(^|/)node_modules/@sinclair/typebox/"] },
    },
    {
      name: "domain-without-io",
      severity: "error",
      comment:
        "domain/ holds pure rules: no database, broker, HTTP, mail, files or sockets (TypeBox is fine). " +
        "Put I/O behind a port in ports.ts and implement it in infrastructure/.",
      from: { path: "^modules/[^/]+/domain/", pathNot: TESTS },
      to: {
        path: [
          IO_PACKAGES,
          IO_BUILTINS,
          "^src/platform/(db\\.ts|logger\\.ts|messaging/|http/)",
        ],
      },
    },
    {
      name: "domain-is-innermost",
      severity: "error",
      comment: "domain/ must not depend on the layers around it (application, infrastructure, http, the factory).",
      from: { path: "^modules/([^/]+)/domain/", pathNot: TESTS },
      to: { path: "^modules/$1/(application/|infrastructure/|http\\.ts$|index\\.ts$)" },
    },
    {
      name: "application-through-ports",
      severity: "error",
      comment:
        "Use cases (application/) see their own module only as domain/, ports.ts, contract.ts and other use cases: " +
        "the outside (database, mail) through the interfaces in ports.ts, which infrastructure/ implements and " +
        "index.ts wires. Type-only imports count too: a drizzle row type is as much a dependency as a repository. " +
        "See docs/architecture.md.",
      from: { path: "^modules/([^/]+)/application/", pathNot: TESTS },
      to: { path: "^modules/$1/", pathNot: ["^modules/$1/(application|domain)/", "^modules/$1/(ports|contract)\\.ts$"] },
    },
    {
      name: "application-without-io",
      severity: "error",
      comment:
        "Use cases do no I/O of their own and know no protocol: no SQL builder, driver, web framework or mailer, " +
        "and nothing of src/platform/http/ (errors are src/platform/errors.ts; the edge maps them to statuses).",
      from: { path: "^modules/[^/]+/application/", pathNot: TESTS },
      to: { path: [IO_PACKAGES, IO_BUILTINS, "^src/platform/http/"] },
    },
    {
      name: "ports-are-the-modules-own-terms",
      severity: "error",
      comment: "ports.ts speaks the module's language: it may name domain/ and contract.ts types, never an implementation.",
      from: { path: "^modules/([^/]+)/ports\\.ts$" },
      to: { path: "^modules/$1/", pathNot: ["^modules/$1/domain/", "^modules/$1/contract\\.ts$"] },
    },
    {
      name: "edges-see-domain-types",
      severity: "error",
      comment:
        "http.ts and handlers.ts call use cases and render their domain results; they never reach into " +
        "infrastructure/ (no repositories, no drizzle row types). index.ts does the wiring.",
      from: { path: "^modules/([^/]+)/(http|handlers)\\.ts$" },
      to: { path: "^modules/$1/infrastructure/" },
    },
    {
      name: "infrastructure-implements-ports",
      severity: "error",
      comment:
        "infrastructure/ implements ports.ts; it depends on domain/ and ports.ts, never on the use cases or the " +
        "edges that call it (a dependency pointing outwards, like a dispatcher calling a use case, belongs in application/).",
      from: { path: "^modules/([^/]+)/infrastructure/", pathNot: TESTS },
      to: { path: "^modules/$1/(application/|http\\.ts$|handlers\\.ts$|index\\.ts$)" },
    },
    {
      name: "errors-know-no-protocol",
      severity: "error",
      comment: "src/platform/errors.ts says what was refused (kind, code); which HTTP status that is is problem.ts's business.",
      from: { path: "^src/platform/errors\\.ts$" },
      to: { path: ["^src/platform/http/", IO_PACKAGES] },
    },
    {
      name: "platform-not-to-modules",
      severity: "error",
      comment:
        "src/platform/** is the shared technical base: it knows nothing of the modules or of the composition " +
        "root that assembles them (src/app.ts, src/main.ts).",
      from: { path: "^src/platform/" },
      to: { path: ["^modules/", "^src/app\\.ts$", "^src/main\\.ts$"] },
    },
    {
      name: "root-uses-module-entry-points",
      severity: "error",
      comment:
        "The composition root wires a module through its factory (index.ts), ports (ports.ts) and contract " +
        "(contract.ts); reaching further in couples it to the module's internals.",
      from: { path: "^src/", pathNot: ["^src/platform/", ...TESTS] },
      to: { path: "^modules/", pathNot: ["^modules/[^/]+/(index|ports|contract)\\.ts$"] },
    },
    {
      name: "production-not-to-dev-deps",
      severity: "error",
      comment:
        "Shipped code (src/, modules/, not tests) must not import devDependencies: the binary would bundle " +
        "them while package.json says they are only for development. Move the package to dependencies.",
      from: { path: "^(src|modules)/", pathNot: TESTS },
      to: { dependencyTypes: ["npm-dev"], dependencyTypesNot: ["type-only"] },
    },
  ],
  options: {
    doNotFollow: { path: ["node_modules"] },
    exclude: { path: ["^dist/"] },
    // Without this, `import type` lines vanish before analysis and type-level coupling goes unchecked.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types", "bun"],
      mainFields: ["module", "main", "types", "typings"],
    },
    // Bun's own modules (the `bun:` protocol is recognised by dependency-cruiser already).
    builtInModules: { add: ["bun", "bun:ffi", "bun:jsc", "bun:sqlite", "bun:test", "bun:wrap"] },
    skipAnalysisNotInRules: true,
  },
};
