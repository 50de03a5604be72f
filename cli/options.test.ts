/** The command line of `runnerly`: each command's own options, strictly; a misspelt flag is refused by name. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { runScript } from "@runnerly/kit/testing";
import { commands } from "./commands.ts";
import { commandHelp, findCommand, type OptionTable, parseCommandArgs, UsageError } from "./options.ts";

const TAIL: OptionTable = {
  json: { type: "boolean", description: "print JSON" },
  all: { type: "boolean", description: "from the start" },
  count: { type: "string", value: "N", description: "stop after N" },
};
const NAMES = ["events tail", "ls", "dlq ls", "dlq replay"];

// No NATS listens here: a command line refused as bad usage must never try to connect.
const NOWHERE = { ...process.env, NATS_URL: "nats://127.0.0.1:9", NATS_USER: "nobody", NATS_PASS: "x" };
const runnerly = (...args: string[]) => runScript(join(import.meta.dir, "main.ts"), args, NOWHERE);

describe("findCommand", () => {
  test.each([
    [["events", "tail", "EVENTS_RUNS", "--all"], "events tail", ["EVENTS_RUNS", "--all"]],
    [["--json", "dlq", "ls", "stats"], "dlq ls", ["--json", "stats"]],
    [["--count", "3", "events", "tail", "X"], "events tail", ["--count", "3", "X"]],
    [["ls", "extra"], "ls", ["extra"]],
  ])("%p → %s %p", (argv, key, rest) => {
    expect(findCommand(argv, NAMES, TAIL)).toEqual({ key, rest });
  });

  test("no command named: null", () => {
    expect(findCommand(["dlq"], NAMES, TAIL)).toBeNull();
    expect(findCommand(["--json"], NAMES, TAIL)).toBeNull();
    expect(findCommand(["evnts", "tail"], NAMES, TAIL)).toBeNull();
  });
});

describe("parseCommandArgs", () => {
  test("the command's own options, in any order and either spelling", () => {
    expect(parseCommandArgs("events tail", ["X", "--count", "3", "--all"], TAIL)).toEqual({
      positionals: ["X"],
      flags: { count: "3", all: true },
    });
    expect(parseCommandArgs("events tail", ["--count=5", "X", "-h"], TAIL).flags).toEqual({
      count: "5",
      help: true,
    });
  });

  test.each([
    ["--jsno", "unknown option --jsno (did you mean --json?)"],
    ["--cont", "unknown option --cont (did you mean --count?)"],
    ["--al", "unknown option --al (did you mean --all?)"],
    ["--single", "unknown option --single\n"],
    ["-j", "unknown option -j\n"],
    ["--count", "'--count <value>' argument missing"],
    ["--json=yes", "'--json' does not take an argument"],
  ])("%s is refused", (flag, message) => {
    const refuse = () => parseCommandArgs("events tail", ["X", flag], TAIL);
    expect(refuse).toThrow(UsageError);
    expect(refuse).toThrow(message);
    expect(refuse).toThrow("options of events tail: --json, --all, --count <N>, -h, --help");
  });
});

describe("runnerly as a process", () => {
  test("a misspelt flag: exit 2 naming it, the closest option and the command's options", async () => {
    const r = await runnerly("events", "tail", "EVENTS_RUNS", "--jsno");
    expect(r.code).toBe(2);
    expect(r.err).toContain("runnerly events tail: unknown option --jsno (did you mean --json?)");
    expect(r.err).toContain("--json, --all, --count <N>");
    expect(r.out).toBe("");
  });

  test("an option of another command is refused too", async () => {
    const r = await runnerly("ls", "--all");
    expect(r.code).toBe(2);
    expect(r.err).toContain("runnerly ls: unknown option --all");
    expect(r.err).toContain("options of ls: --json, -h, --help");
  });

  test("an unknown command names the closest one", async () => {
    const r = await runnerly("evnts", "tail", "EVENTS_RUNS");
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown command evnts (did you mean events tail?)");
    expect((await runnerly("dlq", "lss", "stats")).err).toContain("did you mean dlq ls?");
  });

  test("a command's --help lists its options, whatever else is on the line", async () => {
    const r = await runnerly("events", "tail", "--count", "3", "--help");
    expect(r.code).toBe(0);
    expect(r.out).toContain("Usage: runnerly events tail <stream> [options]");
    expect(r.out).toMatch(/--count <N>\s+stop after N events/);
    expect(r.out).toMatch(/-h, --help\s+show this command's arguments and options/);
  });
});

describe("commandHelp", () => {
  test.each(Object.entries(commands))("%s: its arguments and each of its options", (key, command) => {
    const help = commandHelp(key, command);
    expect(help).toContain(`Usage: runnerly ${key}`);
    expect(help).toContain(command.summary);
    for (const arg of command.args) expect(help).toContain(`<${arg}>`);
    for (const [name, spec] of Object.entries(command.options ?? {})) {
      expect(help).toContain(`--${name}`);
      expect(help).toContain(spec.description);
    }
  });
});
