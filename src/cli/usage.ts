/**
 * The CLI's usage text is the one list of its commands: an entry starts with two spaces and the command's name,
 * and lines indented further continue it. What `shop <command> --help` prints, and which commands exist, are read
 * from there, so a command is known (and has its help) as soon as its usage line is written.
 */

const ENTRY = /^ {2}(\S+)/;
const CONTINUATION = /^ {3,}\S/;

/** The "Commands:" entries of `usage` whose first word is `command` (with their continuation lines); undefined if none. */
export function commandUsage(usage: string, command: string): string | undefined {
  const picked: string[] = [];
  let inEntry = false;
  for (const line of commandLines(usage)) {
    const entry = ENTRY.exec(line);
    if (entry && !CONTINUATION.test(line)) inEntry = entry[1] === command;
    if (inEntry) picked.push(line);
  }
  // "shop " before each entry, and as much more indentation on its continuation lines so that they stay aligned.
  const lines = picked.map((line) => (CONTINUATION.test(line) ? `     ${line}` : `  shop ${line.slice(2)}`));
  return lines.length > 0 ? `Usage:\n${lines.join("\n")}` : undefined;
}

/** Every command named in `usage`'s "Commands:" list, once each. */
export function commandNames(usage: string): string[] {
  const names = commandLines(usage).flatMap((line) => (CONTINUATION.test(line) ? [] : (ENTRY.exec(line)?.[1] ?? [])));
  return [...new Set(names)];
}

/** Whether the arguments ask for help (`--help` or `-h`, before a `--` that ends the options). */
export function helpRequested(args: string[]): boolean {
  const end = args.indexOf("--");
  return (end < 0 ? args : args.slice(0, end)).some((arg) => arg === "--help" || arg === "-h");
}

/** An error of node:util parseArgs (unknown option, missing value, unexpected argument): the caller's mistake. */
export function isArgumentError(error: unknown): error is Error {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}

function commandLines(usage: string): string[] {
  const lines = usage.split("\n");
  const start = lines.findIndex((line) => line.trim() === "Commands:");
  if (start < 0) return [];
  const end = lines.findIndex((line, i) => i > start && line.trim() === "");
  return lines.slice(start + 1, end < 0 ? undefined : end);
}
