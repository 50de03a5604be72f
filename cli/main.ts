#!/usr/bin/env bun
/**
 * `runnerly`: operate a running mesh from the terminal. Talks to NATS only
 * (NATS_URL and the usual credential variables), like `nats micro`.
 */
import { parseArgs } from "node:util";
import { type Command, commands } from "./commands.ts";

const HELP = `runnerly — operate a Runnerly mesh over NATS

Usage: runnerly <command> [args] [--json]

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${`${name} ${c.args.map((a) => `<${a}>`).join(" ")}`.padEnd(36)} ${c.summary}`)
  .join("\n")}

Environment: NATS_URL (default nats://127.0.0.1:4222), NATS_USER/NATS_PASS, NATS_TOKEN, NATS_CREDS,
NATS_TLS_CA (and NATS_TLS_CERT/NATS_TLS_KEY). With none of them set it uses the dev stack's
operator credentials (RUNNERLY_DATA_DIR, default .data: nats/creds/operator.env), or for
provision the provisioner's (nats/creds/provisioner.env).
Exit codes: 0 done, 1 failed, 2 bad usage.`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: {
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      all: { type: "boolean" },
      count: { type: "string" },
      dir: { type: "string" },
      calls: { type: "string" },
      consumes: { type: "string" },
      events: { type: "boolean" },
      "shared-inbox": { type: "boolean" },
    },
  });
  const key = [positionals.slice(0, 2).join(" "), positionals[0] ?? ""].find(
    (k) => k !== "" && k in commands,
  );
  if (values.help || !key) {
    console.log(HELP);
    return values.help || positionals.length === 0 ? 0 : 2;
  }
  const command = commands[key] as Command;
  const args = positionals.slice(key.split(" ").length);
  if (args.length < command.args.length) {
    console.error(`usage: runnerly ${key} ${command.args.map((a) => `<${a}>`).join(" ")}`);
    return 2;
  }
  try {
    return await command.run(args, { json: values.json === true, flags: values });
  } catch (err) {
    console.error(`runnerly ${key}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

process.exit(await main(process.argv.slice(2)));
