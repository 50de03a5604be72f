/**
 * Values that break a JSON schema in the ways clients do: the wrong type, a
 * member missing, doubled or added (JavaScript's magic names among them),
 * numbers no JSON number should be, strings far too long or full of Unicode
 * edge cases, and near misses of an enum.
 */
import fc from "fast-check";
import { hostileNumber, hugeString, numberAsString, unicodeEdge, unicodeString } from "./hostile-values.ts";
import { type JsonSchema, type Resolve, typesOf, validObject, validValue } from "./json-schema.ts";
import { JsonObject, type JsonTree } from "./json-text.ts";

/** A value of some JSON type other than what the schema asks for. */
export const wrongType = (): fc.Arbitrary<JsonTree> =>
  fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.constant(new JsonObject([])),
    fc.constant([] as JsonTree[]),
    fc.array(fc.integer(), { maxLength: 3 }),
    numberAsString(),
    hostileNumber(),
    fc.constantFrom("true", "null", "[]", "{}"),
  );

/** Keys that mean something to JavaScript objects, or look like another field. */
const EXTRA_KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "id",
  "owner",
  "user",
  "",
];

/**
 * Values that break `schema`: a wrong type, a field missing or doubled or
 * added, a number no JSON number should be, a string far too long or full of
 * Unicode edge cases, nested where nothing nests. Valid values are mixed in
 * so that one bad field sits among good ones, where it is hardest to spot.
 *
 * @example
 * fc.sample(hostileValue(resolve, { $ref: "#/components/schemas/runs_RunInput" }), 5)
 */
export function hostileValue(resolve: Resolve, schema: JsonSchema, depth = 0): fc.Arbitrary<JsonTree> {
  const s = resolve(schema);
  const types = typesOf(s);
  const own: fc.Arbitrary<JsonTree>[] = [wrongType(), validValue(resolve, s)];
  if (s.enum) own.push(nearMissEnum(s.enum.map(String)));
  if (types.includes("string")) own.push(unicodeString(), overLong(s), fc.constant(""));
  if (types.includes("number") || types.includes("integer")) own.push(hostileNumber(), numberAsString());
  if (types.includes("object") && depth < 2) own.push(hostileObject(resolve, s, depth));
  return fc.oneof(...own);
}

/** One more character than allowed, or a huge string (rare: it costs a big body). */
function overLong(s: JsonSchema): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant("x".repeat((s.maxLength ?? 256) + 1)) },
    { weight: 1, arbitrary: hugeString() },
  );
}

function nearMissEnum(values: string[]): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...values), fc.constantFrom("upper", "space", "edge", "homoglyph"), unicodeEdge())
    .map(([v, how, edge]) => {
      if (how === "upper") return v.toUpperCase();
      if (how === "space") return ` ${v} `;
      if (how === "edge") return v + edge;
      return v.replace(/a/g, "\u0430").replace(/e/g, "\u0435"); // Cyrillic look-alikes
    });
}

function hostileObject(resolve: Resolve, s: JsonSchema, depth: number): fc.Arbitrary<JsonTree> {
  const props = Object.keys(s.properties ?? {});
  const base = validObject(resolve, s);
  const anyProp = props.length ? fc.constantFrom(...props) : fc.constant("x");
  const badValue = (name: string) => hostileValue(resolve, s.properties?.[name] ?? {}, depth + 1);
  return fc.oneof(
    // One field broken, the rest valid.
    fc.tuple(base, anyProp).chain(([obj, name]) => badValue(name).map((v) => replace(obj, name, v))),
    // Every field broken.
    fc
      .tuple(...props.map((p) => badValue(p).map((v): [string, JsonTree] => [p, v])))
      .map((e) => new JsonObject(e)),
    // A required field missing.
    fc.tuple(base, anyProp).map(([obj, name]) => new JsonObject(obj.entries.filter(([k]) => k !== name))),
    // Extra fields, JavaScript's magic names among them.
    fc
      .tuple(
        base,
        fc.array(fc.tuple(fc.oneof(fc.constantFrom(...EXTRA_KEYS), fc.string()), wrongType()), {
          minLength: 1,
          maxLength: 3,
        }),
      )
      .map(([obj, extra]) => new JsonObject([...obj.entries, ...extra])),
    // A field given twice with conflicting values.
    fc.tuple(base, anyProp, wrongType()).map(([obj, name, v]) => new JsonObject([...obj.entries, [name, v]])),
    // The object itself wrapped in an array.
    base.map((obj) => [obj]),
  );
}

function replace(obj: JsonObject, name: string, value: JsonTree): JsonObject {
  const rest = obj.entries.filter(([k]) => k !== name);
  return new JsonObject([...rest, [name, value]]);
}
