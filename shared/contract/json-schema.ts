/**
 * Reading JSON Schemas the way the comparison needs them: `$ref`s resolved
 * against their document, annotations (descriptions, examples) dropped,
 * unions split into their branches, and a short human description of a
 * schema for messages (`string`, `enum ["easy", "long"]`, `number | null`).
 */

export type Schema = Record<string, unknown>;

/** Keywords that say nothing about which values are valid. */
const ANNOTATIONS = new Set([
  "$schema",
  "$id",
  "$comment",
  "title",
  "description",
  "examples",
  "example",
  "deprecated",
  "readOnly",
  "writeOnly",
  "externalDocs",
  "xml",
  "discriminator",
]);

/** Keywords whose value is a schema, a list of schemas, or a map of schemas. */
const ONE = ["items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else"];
const LIST = ["anyOf", "oneOf", "allOf", "prefixItems"];
const MAP = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];

export const isObject = (v: unknown): v is Schema => typeof v === "object" && v !== null && !Array.isArray(v);

/** `true` → `{}` (anything), `false` → `{ not: {} }` (nothing), an object as it is. */
export function asSchema(v: unknown): Schema {
  if (v === true || v === undefined) return {};
  if (v === false) return { not: {} };
  return isObject(v) ? v : { not: {} };
}

/** The schema's own keywords without annotations and `x-` extensions (not recursive). */
export function strip(s: Schema): Schema {
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) if (!ANNOTATIONS.has(k) && !k.startsWith("x-")) out[k] = v;
  return out;
}

/** Resolves a local `$ref` (`#/components/schemas/Run`, `#/$defs/X`) in `root`; undefined when absent. */
export function resolvePointer(root: unknown, ref: string): unknown {
  if (!ref.startsWith("#")) return undefined;
  let at: unknown = root;
  for (const raw of ref.slice(1).split("/").slice(1)) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (!isObject(at) && !Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/**
 * Follows `$ref`s (keeping sibling keywords, as 2020-12 does); returns the
 * schema and the last reference followed, or `missing` naming a dangling one.
 */
export function deref(v: unknown, root: unknown): { schema: Schema; ref?: string; missing?: string } {
  let s = asSchema(v);
  let ref: string | undefined;
  for (let hops = 0; typeof s.$ref === "string" && hops < 32; hops++) {
    ref = s.$ref as string;
    const target = resolvePointer(root, ref);
    if (target === undefined) return { schema: {}, ref, missing: ref };
    const { $ref: _, ...siblings } = s;
    s = { ...asSchema(target), ...siblings };
  }
  return { schema: s, ...(ref ? { ref } : {}) };
}

/**
 * Reads `allOf` of object schemas the way zod-to-openapi writes `.extend()`
 * of a named schema (`allOf: [{ $ref: Base }, { properties: … }]`): later
 * members override the properties they name, and a field required by any
 * member is required (zod-to-openapi lists only newly required ones). Any other `allOf` stays as it
 * is (and a change to it can't be proven compatible).
 */
export function mergeAllOf(s: Schema, root: unknown, depth = 0): Schema {
  if (!Array.isArray(s.allOf) || depth > 8) return s;
  const { allOf, ...own } = s;
  const parts = [...allOf.map((m) => mergeAllOf(strip(deref(m, root).schema), root, depth + 1)), own];
  if (!parts.every((p) => kindOf(p) === "object" || kindOf(p) === "any")) return s;
  const properties: Schema = {};
  const required: string[] = [];
  const out: Schema = {};
  for (const part of parts) {
    const props = isObject(part.properties) ? part.properties : {};
    Object.assign(properties, props);
    required.push(...((part.required as string[] | undefined) ?? []));
    for (const [k, v] of Object.entries(part)) if (k !== "properties" && k !== "required") out[k] = v;
  }
  return { ...out, type: "object", properties, required: [...new Set(required)] };
}

/**
 * A schema's branches: `anyOf`/`oneOf` members (flattened) and one branch per
 * entry of a `type` list. Anything else is one branch.
 */
export function variants(s: Schema, root: unknown, depth = 0): Schema[] {
  const union = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
  const { anyOf: _a, oneOf: _o, default: _d, ...rest } = s;
  if (Array.isArray(union) && Object.keys(rest).length === 0 && depth < 8) {
    return union.flatMap((b) => variants(mergeAllOf(strip(deref(b, root).schema), root), root, depth + 1));
  }
  if (Array.isArray(s.type)) {
    return (s.type as string[]).map((t) => {
      const branch: Schema = { ...s, type: t };
      if (Array.isArray(s.enum)) branch.enum = s.enum.filter((v) => jsonType(v, t));
      return branch;
    });
  }
  return [s];
}

/** Does a JSON value have JSON Schema type `t`? */
export function jsonType(v: unknown, t: string): boolean {
  if (t === "null") return v === null;
  if (t === "integer") return Number.isInteger(v);
  if (t === "number") return typeof v === "number";
  if (t === "array") return Array.isArray(v);
  if (t === "object") return isObject(v);
  return typeof v === t;
}

/** What kind of values a single branch describes. */
export function kindOf(s: Schema): string {
  const keys = Object.keys(s).filter((k) => k !== "default");
  if (keys.length === 0) return "any";
  if (keys.length === 1 && isObject(s.not) && Object.keys(s.not).length === 0) return "never";
  if ("const" in s || "enum" in s) return "enum";
  if (typeof s.type === "string") return s.type;
  if ("properties" in s || "additionalProperties" in s || "required" in s) return "object";
  if ("items" in s || "prefixItems" in s) return "array";
  return "unknown";
}

/** The values of an `enum` or `const` branch. */
export const enumValues = (s: Schema): unknown[] =>
  "const" in s ? [s.const] : ((s.enum as unknown[]) ?? []);

/** `string`, `string (date-time)`, `enum ["a", "b"]`, `array of number`, `number | null`, `any value`. */
export function describe(v: unknown, root: unknown, depth = 0): string {
  const s = mergeAllOf(strip(deref(v, root).schema), root);
  const branches = variants(s, root);
  if (branches.length > 1) return branches.map((b) => describe(b, root, depth + 1)).join(" | ");
  const kind = kindOf(s);
  if (kind === "any") return "any value";
  if (kind === "never") return "no value";
  if (kind === "enum") {
    const values = enumValues(s);
    if ("const" in s) return JSON.stringify(s.const);
    const shown = values.slice(0, 8).map((x) => JSON.stringify(x));
    return `enum [${shown.join(", ")}${values.length > 8 ? ", …" : ""}]`;
  }
  if (kind === "array" && depth < 2) return `array of ${describe(s.items ?? {}, root, depth + 1)}`;
  if (kind === "string" && typeof s.format === "string") return `string (${s.format})`;
  return kind === "unknown" ? "a schema" : kind;
}

/**
 * The schema with every `$ref` inlined (a cycle keeps its `$ref`) and every
 * annotation dropped, for "did anything change" comparisons.
 */
export function normalize(v: unknown, root: unknown, refs: string[] = []): unknown {
  if (Array.isArray(v)) return v.map((x) => normalize(x, root, refs));
  if (!isObject(v)) return v;
  const { schema, ref } = deref(v, root);
  if (ref && refs.includes(ref)) return { $ref: ref };
  const path = ref ? [...refs, ref] : refs;
  const out: Schema = {};
  for (const [k, value] of Object.entries(strip(schema))) {
    if (ONE.includes(k)) out[k] = normalize(value, root, path);
    else if (LIST.includes(k) && Array.isArray(value)) out[k] = value.map((x) => normalize(x, root, path));
    else if (MAP.includes(k) && isObject(value)) {
      out[k] = Object.fromEntries(Object.entries(value).map(([p, x]) => [p, normalize(x, root, path)]));
    } else out[k] = value;
  }
  return out;
}

/** JSON text with object keys sorted: equal for equal JSON values. */
export function canonical(v: unknown): string {
  return JSON.stringify(sortKeys(v));
}

/** A copy with object keys sorted at every level (arrays keep their order). */
export function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (!isObject(v)) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys(v[k])]),
  );
}

export const same = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);
