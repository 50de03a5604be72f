/**
 * fast-check arbitraries from the JSON schemas of an OpenAPI 3.1 document:
 * values that (mostly) satisfy a schema, so requests get past validation
 * into the handlers. json-schema-hostile.ts breaks them.
 */
import fc from "fast-check";
import { unicodeString } from "./hostile-values.ts";
import { JsonObject, type JsonTree } from "./json-text.ts";

/** The parts of JSON Schema (2020-12, as OpenAPI 3.1 uses it) the services' documents use. */
export type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
};

/** Looks up `#/components/schemas/<name>` references in the document they came from. */
export type Resolve = (schema: JsonSchema) => JsonSchema;

/** A resolver over a document's `components.schemas`. */
export function resolverFor(doc: { components?: { schemas?: Record<string, JsonSchema> } }): Resolve {
  const schemas = doc.components?.schemas ?? {};
  return function resolve(schema) {
    if (!schema.$ref) return schema;
    const name = schema.$ref.replace("#/components/schemas/", "");
    const target = schemas[name];
    if (!target) throw new Error(`the document has no schema ${schema.$ref}`);
    return resolve(target);
  };
}

/** The JSON types a schema allows (an untyped schema with properties is an object). */
export const typesOf = (s: JsonSchema): string[] =>
  Array.isArray(s.type) ? s.type : s.type ? [s.type] : s.properties ? ["object"] : ["string"];

// Calendar edges: impossible days, leap seconds, extreme offsets and years.
const DATE_EDGES = [
  "2027-02-29",
  "2028-02-29",
  "2027-02-30",
  "2027-04-31",
  "0000-01-01",
  "9999-12-31",
  "2027-00-10",
];
const TIME_EDGES = [
  "00:00:00Z",
  "23:59:60Z",
  "24:00:00Z",
  "12:00:00+14:00",
  "12:00:00-12:00",
  "12:00:00.123456789+05:45",
];

/** `YYYY-MM-DD` some days from today: mostly inside any "from tomorrow to a year" window. */
const dayFromToday = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

function dateString(withTime: boolean): fc.Arbitrary<string> {
  const day = fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: -800, max: 800 }).map(dayFromToday) },
    { weight: 1, arbitrary: fc.constantFrom(...DATE_EDGES) },
  );
  if (!withTime) return day;
  const time = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom("07:30:00Z", "18:05:00+02:00", "06:00:00.5-05:00") },
    { weight: 1, arbitrary: fc.constantFrom(...TIME_EDGES) },
  );
  return fc.tuple(day, time).map(([d, t]) => `${d}T${t}`);
}

function validString(s: JsonSchema): fc.Arbitrary<string> {
  if (s.format === "date-time") return dateString(true);
  if (s.format === "date") return dateString(false);
  if (s.format === "uuid") return fc.uuid();
  if (s.format === "email") return fc.emailAddress();
  if (s.pattern) return fc.stringMatching(new RegExp(s.pattern));
  const minLength = s.minLength ?? 0;
  const maxLength = Math.min(s.maxLength ?? 64, 64);
  return fc.oneof(
    fc.string({ minLength, maxLength }),
    // Mixed classes and length ≥ 10: what a password rule wants.
    fc.string({ minLength: 4, maxLength: 20 }).map((t) => `Aa1 ${t}`.slice(0, Math.max(maxLength, 10))),
    unicodeString(maxLength),
  );
}

function validNumber(s: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const min =
    s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + (integer ? 1 : 1e-9) : -1e6);
  const max =
    s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - (integer ? 1 : 1e-9) : 1e6);
  return integer
    ? fc.integer({ min: Math.ceil(min), max: Math.floor(max) })
    : fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
}

/**
 * Values that satisfy `schema` as far as these generators know it (formats
 * and patterns included, calendar edge cases sometimes), so that requests
 * reach the handlers behind validation.
 *
 * @example
 * fc.sample(validValue(resolve, { type: "integer", minimum: 1, maximum: 5 }), 3) // [3, 1, 5]
 */
export function validValue(resolve: Resolve, schema: JsonSchema): fc.Arbitrary<JsonTree> {
  const s = resolve(schema);
  if (s.enum) return fc.constantFrom(...(s.enum as JsonTree[]));
  return fc.oneof(...typesOf(s).map((type) => validOfType(resolve, s, type)));
}

function validOfType(resolve: Resolve, s: JsonSchema, type: string): fc.Arbitrary<JsonTree> {
  switch (type) {
    case "null":
      return fc.constant(null);
    case "boolean":
      return fc.boolean();
    case "integer":
    case "number":
      return validNumber(s, type === "integer");
    case "array":
      return fc.array(validValue(resolve, s.items ?? {}), { maxLength: 3 });
    case "object":
      return validObject(resolve, s);
    default:
      return validString(s);
  }
}

/** Objects with every required member and some optional ones, each valid. */
export function validObject(resolve: Resolve, s: JsonSchema): fc.Arbitrary<JsonObject> {
  const props = Object.entries(s.properties ?? {});
  const required = new Set(s.required ?? []);
  const members = props.map(([name, p]) =>
    required.has(name)
      ? validValue(resolve, p).map((v): [string, JsonTree][] => [[name, v]])
      : fc
          .option(validValue(resolve, p), { nil: undefined })
          .map((v): [string, JsonTree][] => (v === undefined ? [] : [[name, v]])),
  );
  return fc.tuple(...members).map((parts) => new JsonObject(parts.flat()));
}
