/**
 * A sample value of a JSON Schema, for checking that a consumer decodes what
 * its producer publishes: `minimal` fills only required fields, `full` every
 * field. It understands what zod writes (types, enums, formats, bounds,
 * unions); for anything it cannot satisfy it throws, naming the place.
 */
import { deref, enumValues, isObject, kindOf, type Schema, strip, variants } from "./json-schema.ts";

export type SampleMode = "minimal" | "full";

const FORMATS: Record<string, string> = {
  "date-time": "2026-11-20T07:30:00.000Z",
  date: "2026-11-20",
  time: "07:30:00",
  email: "ann@example.com",
  uuid: "0190f5a4-7c1e-7000-8000-000000000001",
  uri: "https://example.com/",
  url: "https://example.com/",
  ipv4: "127.0.0.1",
  ipv6: "::1",
};
/** Strings tried against a `pattern` when there is no example. */
const CANDIDATES = ["2026-11", "2026-W47", "2026-11-20", "2026-11-20T07:30:00Z", "sample", "a", "0", "A1"];

/**
 * Makes a value that the schema accepts.
 *
 * @example
 * sampleOf(z.toJSONSchema(RunEventData), "minimal"); // { runId: "sample", user: "sample", distanceM: 1, … }
 */
export function sampleOf(schema: unknown, mode: SampleMode, root: unknown = schema, path = "data"): unknown {
  const s = strip(deref(schema, root).schema);
  const fromExamples = (s.examples as unknown[] | undefined)?.[0] ?? (s as { example?: unknown }).example;
  if (fromExamples !== undefined) return fromExamples;
  const branches = variants(s, root);
  const branch = branches.find((b) => b.type !== "null") ?? branches[0] ?? {};
  const kind = kindOf(branch);
  switch (kind) {
    case "any":
      return "sample";
    case "null":
      return null;
    case "boolean":
      return true;
    case "enum":
      return enumValues(branch)[0];
    case "string":
      return sampleString(branch, path);
    case "number":
    case "integer":
      return sampleNumber(branch, kind === "integer");
    case "array": {
      const count = Math.max(Number(branch.minItems ?? 0), mode === "full" ? 1 : 0);
      return Array.from({ length: count }, () => sampleOf(branch.items ?? {}, mode, root, `${path}[]`));
    }
    case "object": {
      const props = isObject(branch.properties) ? branch.properties : {};
      const required = new Set((branch.required as string[] | undefined) ?? []);
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(props)) {
        if (mode === "full" || required.has(key)) out[key] = sampleOf(value, mode, root, `${path}.${key}`);
      }
      return out;
    }
    default:
      throw new Error(`cannot make a sample of ${path}: unsupported schema ${JSON.stringify(branch)}`);
  }
}

function sampleString(s: Schema, path: string): string {
  const min = Number(s.minLength ?? 0);
  const format = typeof s.format === "string" ? FORMATS[s.format] : undefined;
  if (typeof s.format === "string" && !format)
    throw new Error(`cannot make a sample of ${path}: format ${s.format}`);
  const pattern = typeof s.pattern === "string" ? new RegExp(s.pattern, "u") : null;
  const tries = format ? [format] : ["sample".padEnd(min, "x"), ...CANDIDATES];
  const found = tries.find((t) => (!pattern || pattern.test(t)) && t.length >= min);
  if (found === undefined)
    throw new Error(`cannot make a sample of ${path}: no candidate matches ${s.pattern}`);
  return found;
}

function sampleNumber(s: Schema, integer: boolean): number {
  const num = (k: string) => (typeof s[k] === "number" ? (s[k] as number) : undefined);
  let v = 1;
  const [lo, xlo, hi, xhi, step] = [
    "minimum",
    "exclusiveMinimum",
    "maximum",
    "exclusiveMaximum",
    "multipleOf",
  ].map(num);
  if (lo !== undefined && v < lo) v = lo;
  if (xlo !== undefined && v <= xlo) v = xlo + 1;
  if (hi !== undefined && v > hi) v = hi;
  if (xhi !== undefined && v >= xhi) v = xhi - (integer ? 1 : 0.5);
  if (step) v = Math.ceil(v / step) * step;
  return integer ? Math.ceil(v) : v;
}
