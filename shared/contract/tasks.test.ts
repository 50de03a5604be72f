/**
 * Tasks in the contract: the kit's task fixture services (`tasker` works
 * square, always-fails and hold; `asker` submits them) read by the real
 * extraction, changed the way a developer would change them, and judged by
 * the real comparison and requester check.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { z } from "zod";
import { defineTask, type TaskDefinition } from "../tasks/define.ts";
import { alwaysFails, askerService, hold, square, taskerService } from "../tasks/testdata/services.ts";
import { defineTaskHandler } from "../tasks/worker.ts";
import { compareContracts, formatChange, judge } from "./compare.ts";
import { checkConsumers } from "./consumers.ts";
import {
  type AnyServiceDefinition,
  extractContract,
  type InspectedService,
  inspectService,
} from "./extract.ts";
import { snapshotText } from "./snapshot.ts";
import type { Contract } from "./types.ts";

const tasker = taskerService();
const asker = askerService();
let taskerContract: Contract;

beforeAll(async () => {
  taskerContract = await extractContract(tasker);
});

/** The tasker working `works` instead (each with a handler that is never run). */
function taskerWorking(works: TaskDefinition[], version = tasker.version): AnyServiceDefinition {
  return {
    ...tasker,
    version,
    tasks: {
      works,
      handlers: () => works.map((t) => defineTaskHandler(t, async () => ({}))),
    },
  };
}
const askerSubmitting = (submits: TaskDefinition[]): AnyServiceDefinition => ({
  ...asker,
  tasks: { ...asker.tasks, submits },
});
/** The square task redefined: same owner, name and version, other schemas. */
const squareAs = (input: z.ZodType, output: z.ZodType, version = 1) =>
  defineTask("tasker", "square", version, input, output);

const changesTo = async (def: AnyServiceDefinition) =>
  compareContracts(taskerContract, await extractContract(def)).map((c) => `${c.kind}: ${formatChange(c)}`);

describe("extraction", () => {
  test("a worker lists each task it works with its input and output schemas, sorted by name", () => {
    expect(taskerContract.tasks?.works.map((t) => `${t.name} v${t.version}`)).toEqual([
      "always-fails v1",
      "hold v1",
      "square v1",
    ]);
    expect(taskerContract.tasks?.works.find((t) => t.name === "square")).toEqual({
      name: "square",
      version: 1,
      input: {
        type: "object",
        properties: { n: { type: "integer", minimum: -9007199254740991, maximum: 9007199254740991 } },
        required: ["n"],
      },
      output: {
        type: "object",
        properties: { sq: { type: "number" } },
        required: ["sq"],
        additionalProperties: false,
      },
    });
    expect(taskerContract.tasks?.submits).toEqual([]);
  });

  test("a requester lists the owner, name and version of each task it submits; the snapshot keeps them", async () => {
    const contract = await extractContract(asker);
    expect(contract.tasks).toEqual({
      works: [],
      submits: [
        { service: "tasker", name: "always-fails", version: 1 },
        { service: "tasker", name: "hold", version: 1 },
        { service: "tasker", name: "square", version: 1 },
      ],
    });
    const text = snapshotText(contract);
    expect(Object.keys(JSON.parse(text))).toEqual([
      "service",
      "version",
      "rpc",
      "events",
      "consumes",
      "tasks",
      "openapi",
    ]);
    // The same contract always writes the same text, whatever the order of declaration.
    const reordered = await extractContract(askerSubmitting([square, hold, alwaysFails]));
    expect(snapshotText(reordered)).toBe(text);
  });

  test("a service without tasks has no tasks part, so its snapshot does not change", async () => {
    const plain = { ...asker, tasks: undefined };
    expect(await extractContract(plain)).not.toHaveProperty("tasks");
  });
});

describe("comparison: a worked task is a promise like an RPC method", () => {
  const Input = z.object({ n: z.number().int() });
  const Output = z.object({ sq: z.number() });
  const cases: [string, TaskDefinition[], string[]][] = [
    ["unchanged", [square, alwaysFails, hold], []],
    ["a worked task removed", [square, alwaysFails], ["breaking: tasker: task hold v1: no longer worked"]],
    [
      "its input narrowed: a new required field",
      [squareAs(Input.extend({ base: z.number() }), Output), alwaysFails, hold],
      ['breaking: tasker: task square v1: input field "base" is new and required'],
    ],
    [
      "its output widened: a field that may be absent",
      [squareAs(Input, z.object({ sq: z.number().optional() })), alwaysFails, hold],
      ['breaking: tasker: task square v1: output field "sq" may now be absent'],
    ],
    [
      "its input widened: an optional field",
      [squareAs(Input.extend({ base: z.number().optional() }), Output), alwaysFails, hold],
      ['additive: tasker: task square v1: input field "base" added (optional)'],
    ],
    [
      "a new version beside the old one",
      [square, squareAs(Input, z.object({ sq: z.string() }), 2), alwaysFails, hold],
      ["additive: tasker: task square v2: worked"],
    ],
  ];
  test.each(cases)("%s", async (_name, works, expected) => {
    expect(await changesTo(taskerWorking(works))).toEqual(expected);
  });

  test("a breaking task change is allowed by a new major version only", async () => {
    const dropped = await extractContract(taskerWorking([square, alwaysFails]));
    expect(judge(taskerContract, dropped).ok).toBe(false);
    const bumped = await extractContract(taskerWorking([square, alwaysFails], "2.0.0"));
    expect(judge(taskerContract, bumped)).toMatchObject({ ok: true, majorBumped: true });
  });

  test("starting or stopping to submit a task is additive", async () => {
    const before = await extractContract(asker);
    const after = await extractContract(
      askerSubmitting([square, hold, defineTask("tasker", "cube", 1, z.object({}), z.object({}))]),
    );
    expect(compareContracts(before, after).map((c) => `${c.kind}: ${formatChange(c)}`)).toEqual([
      "additive: asker: submits task tasker/cube v1: submitted",
      "additive: asker: submits task tasker/always-fails v1: no longer submitted",
    ]);
  });

  test("a snapshot from before tasks promised none", async () => {
    const { tasks: _, ...old } = taskerContract;
    expect(compareContracts(old, taskerContract).map(formatChange)).toEqual([
      "tasker: task always-fails v1: worked",
      "tasker: task hold v1: worked",
      "tasker: task square v1: worked",
    ]);
  });
});

describe("requesters against the owners of the tasks they submit", () => {
  let owner: InspectedService;
  beforeAll(async () => {
    owner = await inspectService(tasker);
  });
  const problems = async (requester: AnyServiceDefinition, owners = [owner]) =>
    checkConsumers([...owners, await inspectService(requester)]).map(formatChange);

  test("a requester of tasks its owner works is fine", async () => {
    expect(await problems(asker)).toEqual([]);
  });

  test("a task its owner does not work, or not at that version, is reported", async () => {
    const v2 = squareAs(z.object({ n: z.number().int() }), z.object({ sq: z.number() }), 2);
    const cube = defineTask("tasker", "cube", 1, z.object({}), z.object({}));
    expect(await problems(askerSubmitting([v2, cube]))).toEqual([
      "asker: submits task tasker/square v2: tasker works square v1, not v2",
      "asker: submits task tasker/cube v1: tasker does not work cube v1",
    ]);
  });

  test("a task of a service with no contract here is reported", async () => {
    expect(await problems(asker, [])).toEqual([
      "asker: submits task tasker/square v1: tasker has no contract here",
      "asker: submits task tasker/always-fails v1: tasker has no contract here",
      "asker: submits task tasker/hold v1: tasker has no contract here",
    ]);
  });

  test("a requester built from another copy of the task: the owner must accept its input, its callbacks the output", async () => {
    // The requester's copy lets it send no `n` and expects a string back: the owner requires n and answers a number.
    const stale = squareAs(z.object({ n: z.number().int().optional() }), z.object({ sq: z.string() }));
    const found = await problems(askerSubmitting([stale]));
    expect(found).toHaveLength(3);
    expect(found[0]).toStartWith("asker: submits task tasker/square v1: tasker refuses a minimal input: n:");
    expect(found[1]).toStartWith(
      "asker: submits task tasker/square v1: its callbacks refuse a minimal output: sq:",
    );
    expect(found[2]).toStartWith(
      "asker: submits task tasker/square v1: its callbacks refuse a full output: sq:",
    );
  });
});
