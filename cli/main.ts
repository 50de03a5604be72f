#!/usr/bin/env bun
/**
 * `runnerly`: run a Runnerly project locally (`runnerly dev`), scaffold its
 * services (`runnerly new service`), check their API contracts against the
 * snapshots in contracts/ (`runnerly contracts check|update`), and operate a
 * running mesh from the terminal; the operating commands talk to NATS only
 * (NATS_URL and the usual credential variables), like `nats micro`. Installed as the bin of
 * @runnerly/cli; the project is the current folder or the nearest one above
 * it with a package.json that has workspaces (or a services/ folder).
 */
import { closestMatch } from "leven";
import { type Command, commands } from "./commands.ts";
import {
  commandHelp,
  findCommand,
  HELP_OPTION,
  type OptionTable,
  parseCommandArgs,
  UsageError,
  usageOf,
} from "./options.ts";

const HELP = `runnerly — run a Runnerly project, scaffold its services, check their contracts, operate its mesh over NATS

Usage: runnerly <command> [args] [options]    (runnerly <command> --help lists its options)

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${usageOf(name, c).padEnd(36)} ${c.summary}`)
  .join("\n")}

Environment: NATS_URL (default nats://127.0.0.1:4222), NATS_USER/NATS_PASS, NATS_TOKEN, NATS_CREDS,
NATS_TLS_CA (and NATS_TLS_CERT/NATS_TLS_KEY). With none of them set it uses the dev stack's
operator credentials (RUNNERLY_DATA_DIR, default .data: nats/creds/operator.env), or for
provision the provisioner's (nats/creds/provisioner.env).
Exit codes: 0 done, 1 failed, 2 bad usage.`;

// Every command's options: which take a value, so that value is never taken for a command's name.
const ALL_OPTIONS: OptionTable = Object.assign(
  {},
  HELP_OPTION,
  ...Object.values(commands).map((c) => c.options),
);

/** What to say when the words name no command: the closest one, or those that begin with the word. */
function notACommand(words: string[]): string {
  const [first, second] = words;
  if (first === undefined) return "runnerly: no command given";
  const names = Object.keys(commands);
  const group = names.filter((n) => n.startsWith(`${first} `));
  const guess =
    (second === undefined ? undefined : closestMatch(`${first} ${second}`, names, { maxDistance: 2 })) ??
    closestMatch(first, names, { maxDistance: 2 });
  const hint = guess ?? (group.length > 0 ? group.join(", ") : undefined);
  const given = group.length > 0 && second !== undefined ? `${first} ${second}` : first;
  return `runnerly: unknown command ${given}${hint ? ` (did you mean ${hint}?)` : ""}`;
}

async function main(argv: string[]): Promise<number> {
  const found = findCommand(argv, Object.keys(commands), ALL_OPTIONS);
  if (!found) {
    const words = argv.filter((a) => !a.startsWith("-"));
    if (words.length === 0 && argv.every((a) => a === "--help" || a === "-h")) {
      console.log(HELP);
      return 0;
    }
    console.error(`${notACommand(words)}\nrunnerly --help lists the commands.`);
    return 2;
  }
  const { key, rest } = found;
  const command = commands[key] as Command;
  let parsed: ReturnType<typeof parseCommandArgs>;
  try {
    parsed = parseCommandArgs(key, rest, command.options ?? {});
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(err.message);
    return 2;
  }
  const { positionals: args, flags } = parsed;
  if (flags.help) {
    console.log(commandHelp(key, command));
    return 0;
  }
  if (args.length < command.args.length) {
    console.error(`usage: runnerly ${usageOf(key, command)}`);
    return 2;
  }
  try {
    return await command.run(args, { json: flags.json === true, flags });
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(err.message);
      return 2;
    }
    console.error(`runnerly ${key}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

process.exit(await main(process.argv.slice(2)));
