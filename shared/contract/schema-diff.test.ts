/** The JSON Schema comparison on its own: zod schemas through `z.toJSONSchema`, old vs new, per side. */
import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { jsonSchema } from "./extract.ts";
import { diffSchema, type Mode } from "./schema-diff.ts";

const diff = (old: z.ZodType, neu: z.ZodType, mode: Mode) => {
  const [o, n] = [jsonSchema(old, mode), jsonSchema(neu, mode)];
  return diffSchema({ schema: o, root: o }, { schema: n, root: n }, mode, { base: mode, path: [] }).map(
    (f) => `${f.kind}: ${f.what}`,
  );
};

describe("diffSchema", () => {
  const cases: [string, z.ZodType, z.ZodType, Mode, string[]][] = [
    ["same schema", z.object({ a: z.string() }), z.object({ a: z.string() }), "input", []],
    [
      "integer widened to number: fine to accept, breaking to return",
      z.object({ n: z.number().int().min(0).max(10) }),
      z.object({ n: z.number().min(0).max(10) }),
      "output",
      ['breaking: widened type: output field "n" integer → number'],
    ],
    [
      "a closed object on the input side",
      z.object({ a: z.string() }),
      z.strictObject({ a: z.string() }),
      "input",
      ["breaking: input no longer accepts fields it does not name"],
    ],
    [
      "a changed default",
      z.object({ limit: z.number().default(20) }),
      z.object({ limit: z.number().default(50) }),
      "input",
      ['breaking: default changed: input field "limit" 20 → 50'],
    ],
    [
      "an output field that may be absent",
      z.object({ a: z.string() }),
      z.object({ a: z.string().optional() }),
      "output",
      ['breaking: output field "a" may now be absent'],
    ],
    [
      "an enum value added to an output",
      z.object({ s: z.enum(["a", "b"]) }),
      z.object({ s: z.enum(["a", "b", "c"]) }),
      "output",
      ['breaking: enum value "c" added: output field "s"'],
    ],
    [
      "a nullable input: wider",
      z.object({ d: z.string() }),
      z.object({ d: z.string().nullable() }),
      "input",
      ['additive: widened type: input field "d" string → string | null'],
    ],
    [
      "a pattern added to an input",
      z.object({ m: z.string() }),
      z.object({ m: z.string().regex(/^\d{4}-\d{2}$/) }),
      "input",
      ['breaking: pattern added: input field "m" "^\\\\d{4}-\\\\d{2}$"'],
    ],
    [
      "something it cannot reason about",
      z.object({ t: z.tuple([z.string(), z.number()]) }),
      z.object({ t: z.tuple([z.string(), z.string()]) }),
      "input",
      ['breaking: cannot prove compatible: input field "t" keyword "prefixItems" changed'],
    ],
  ];
  test.each(cases)("%s", (_name, old, neu, mode, expected) => {
    expect(diff(old, neu, mode)).toEqual(expected);
  });

  test("recursive schemas ($ref cycles) are compared to the depth they differ at", () => {
    type Node = { name: string; children: Node[] };
    const Old: z.ZodType<Node> = z.object({ name: z.string(), children: z.array(z.lazy(() => Old)) });
    type Node2 = { name: string; size: number; children: Node2[] };
    const New: z.ZodType<Node2> = z.object({
      name: z.string(),
      size: z.number(),
      children: z.array(z.lazy(() => New)),
    });
    expect(diff(Old, Old, "input")).toEqual([]);
    expect(diff(Old, New, "input")).toContain('breaking: input field "size" is new and required');
  });
});
