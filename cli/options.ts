/**
 * The command line of `runnerly`: which command it names, and that
 * command's own options parsed strictly (`util.parseArgs`), so a misspelt
 * flag is refused with the command's valid options and the closest one
 * rather than ignored.
 */
import { parseArgs } from "node:util";
import { closestMatch } from "leven";

/** One option of a command: its type, a one-letter alias, what it does, and its value's name in help. */
export type OptionSpec = {
  type: "boolean" | "string";
  short?: string;
  description: string;
  /** The value's name in help (`--count <N>`); string options only. */
  value?: string;
};

/** A command's options by long name (without the dashes). */
export type OptionTable = Record<string, OptionSpec>;

export type Flags = Record<string, string | boolean | undefined>;

/** A command line that cannot be run as written: printed as is, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Every command takes `--help` (`-h`). */
export const HELP_OPTION: OptionTable = {
  help: { type: "boolean", short: "h", description: "show this command's arguments and options" },
};

/** `--count <N>`, `-h, --help`: an option as help and error messages write it. */
export function optionLabel(name: string, spec: OptionSpec): string {
  const value = spec.type === "string" ? ` <${spec.value ?? "value"}>` : "";
  return `${spec.short ? `-${spec.short}, ` : ""}--${name}${value}`;
}

/** What help shows of a command. */
export type CommandUsage = { args: readonly string[]; summary: string; options?: OptionTable };

/** `dlq replay <service> <consumer> <id>`: a command with its arguments. */
export const usageOf = (key: string, command: CommandUsage): string =>
  `${key} ${command.args.map((a) => `<${a}>`).join(" ")}`.trim();

/**
 * `runnerly <command> --help`: its arguments, what it does, and each of its
 * options with what it does.
 *
 * @example
 * console.log(commandHelp("events tail", commands["events tail"]));
 */
export function commandHelp(key: string, command: CommandUsage): string {
  const all = { ...command.options, ...HELP_OPTION };
  const labels = Object.entries(all).map(([name, spec]) => ({ label: optionLabel(name, spec), spec }));
  const width = Math.max(...labels.map(({ label }) => label.length)) + 2;
  return [
    `Usage: runnerly ${usageOf(key, command)} [options]`,
    "",
    command.summary,
    "",
    "Options:",
    ...labels.map(({ label, spec }) => `  ${label.padEnd(width)}${spec.description}`),
  ].join("\n");
}

/**
 * The command named by the leading words of `argv` (the longest of
 * `names` that matches, e.g. `events tail` before `events`), with the
 * remaining arguments in order; null when no command is named. Options
 * may come before the command's words: `known` (every command's options)
 * says which of them take a value, so that value is not read as a word.
 *
 * @example
 * findCommand(["events", "tail", "EVENTS_RUNS", "--all"], ["events tail", "ls"], {});
 * // { key: "events tail", rest: ["EVENTS_RUNS", "--all"] }
 */
export function findCommand(
  argv: readonly string[],
  names: readonly string[],
  known: OptionTable,
): { key: string; rest: string[] } | null {
  const { tokens } = parseArgs({
    args: [...argv],
    options: toParseArgs(known),
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const words = tokens.filter((t) => t.kind === "positional").slice(0, 2);
  for (let n = words.length; n >= 1; n--) {
    const key = words
      .slice(0, n)
      .map((t) => t.value)
      .join(" ");
    if (!names.includes(key)) continue;
    const used = new Set(words.slice(0, n).map((t) => t.index));
    return { key, rest: argv.filter((_, i) => !used.has(i)) };
  }
  return null;
}

/**
 * Parses a command's arguments against its own options (plus `--help`),
 * strictly. An option the command does not have throws a UsageError that
 * names it, the closest valid option ("did you mean --json?") and all of
 * them; so does a string option without its value or a boolean given one.
 *
 * @example
 * parseCommandArgs("events tail", ["EVENTS_RUNS", "--count", "3"], { count: { type: "string", description: "…" } });
 * // { positionals: ["EVENTS_RUNS"], flags: { count: "3" } }
 */
export function parseCommandArgs(
  command: string,
  args: readonly string[],
  table: OptionTable,
): { positionals: string[]; flags: Flags } {
  const all = { ...table, ...HELP_OPTION };
  const config = toParseArgs(all);
  // Unknown options first, found leniently, so the message can name the closest valid one.
  const { tokens } = parseArgs({
    args: [...args],
    options: config,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  for (const t of tokens) {
    if (t.kind === "option" && !(t.name in all)) throw unknownOption(command, t.rawName, all);
  }
  try {
    const { positionals, values } = parseArgs({
      args: [...args],
      options: config,
      allowPositionals: true,
      strict: true,
    });
    return { positionals, flags: values as Flags };
  } catch (err) {
    const message = err instanceof Error ? err.message.split(". ")[0] : String(err);
    throw new UsageError(`runnerly ${command}: ${message}\n${validOptions(command, all)}`);
  }
}

function unknownOption(command: string, raw: string, all: OptionTable): UsageError {
  const long = raw.startsWith("--");
  const names = Object.keys(all);
  const given = raw.replace(/^--?/, "");
  const guess = long
    ? closestMatch(given, names, { maxDistance: Math.max(2, Math.floor(given.length / 3)) })
    : undefined;
  const hint = guess ? ` (did you mean --${guess}?)` : "";
  return new UsageError(`runnerly ${command}: unknown option ${raw}${hint}\n${validOptions(command, all)}`);
}

function validOptions(command: string, all: OptionTable): string {
  const list = Object.entries(all).map(([name, spec]) => optionLabel(name, spec));
  return `options of ${command}: ${list.join(", ")} (runnerly ${command} --help says what they do)`;
}

function toParseArgs(table: OptionTable) {
  return Object.fromEntries(
    Object.entries(table).map(([name, { type, short }]) => [name, short ? { type, short } : { type }]),
  );
}
