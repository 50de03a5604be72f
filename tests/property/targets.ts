/**
 * Request targets for an operation: its path with each parameter a real id,
 * a well-formed stranger or an escape attempt, and a query string with good
 * and bad values, repeated and unknown keys. Shared by the fetch and the
 * raw-socket generators; everything comes out percent-encoded.
 */
import fc from "fast-check";
import { numberAsString, traversalSegment, unicodeString } from "./hostile-values.ts";
import { type Resolve, validValue } from "./json-schema.ts";
import { hostileValue } from "./json-schema-hostile.ts";
import { toJsonText } from "./json-text.ts";
import type { Operation } from "./operations.ts";

/** What targets are built from. */
export type TargetContext = {
  resolve: Resolve;
  /** Ids of resources that exist and belong to the caller, by path template. */
  ids: Record<string, string[]>;
};

/** Longest query value once encoded; several of them, with a long path, still pass the edge's URL limit. */
const MAX_QUERY_VALUE = 2000;

/** A value for a path parameter: a real id, a well-formed stranger, or an escape attempt. */
function pathValue(real: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: real.length ? 4 : 0, arbitrary: real.length ? fc.constantFrom(...real) : fc.constant("x") },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: fc.uuid().map((u) => u.toUpperCase()) },
    { weight: 1, arbitrary: fc.uuid().map((u) => `{${u}}`) },
    { weight: 5, arbitrary: traversalSegment() },
  );
}

/** Things appended to a path that a router might normalise away, or not. */
const pathSuffix = fc.oneof(
  { weight: 12, arbitrary: fc.constant("") },
  {
    weight: 1,
    arbitrary: fc.constantFrom("/", "//", "/.", "/..", "/%2e%2e", "%2f", ";x=1", "/extra", "%00", ".json"),
  },
);

/**
 * The operation's path with its parameters filled in (already encoded), now
 * and then with a suffix or a doubled leading slash.
 *
 * @example
 * fc.sample(pathFor(op, ctx), 3) // ["/api/runs/runs/<a real id>", "/api/runs/runs/..%2f..%2faccounts%2fme", …]
 */
export function pathFor(op: Operation, ctx: TargetContext): fc.Arbitrary<string> {
  const names = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
  const values = names.map(() => pathValue(ctx.ids[op.path] ?? []));
  return fc
    .tuple(fc.tuple(...values), pathSuffix, fc.constantFrom("", "", "", "", "", "/"))
    .map(([vals, suffix, lead]) => {
      let path = op.path;
      names.forEach((name, i) => {
        path = path.replace(`{${name}}`, vals[i] ?? "");
      });
      return `${lead}${path}${suffix}`;
    });
}

// encodeURIComponent throws on lone surrogates; the raw-socket generator sends those bytes instead.
const enc = (s: string) =>
  encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, "\uFFFD")).slice(0, MAX_QUERY_VALUE);

/**
 * A query string: declared parameters with good or bad values (a key may
 * come twice), unknown keys, JavaScript's magic names and raw junk; or none.
 *
 * @example
 * fc.sample(queryFor(op, ctx), 2) // ["", "?limit=1e308&limit=5&__proto__=1"]
 */
export function queryFor(op: Operation, ctx: TargetContext): fc.Arbitrary<string> {
  const declared = op.parameters.filter((p) => p.in === "query");
  const value = (i: number) => {
    const schema = declared[i]?.schema ?? {};
    return fc
      .oneof(
        validValue(ctx.resolve, schema),
        hostileValue(ctx.resolve, schema),
        numberAsString(),
        unicodeString(),
      )
      .map((v) => (typeof v === "string" ? v : toJsonText(v)));
  };
  const pair = fc.oneof(
    ...declared.map((p, i) => value(i).map((v) => `${enc(p.name)}=${enc(v)}`)),
    fc.constantFrom(
      "__proto__=1",
      "constructor[prototype][x]=1",
      "limit[]=1",
      "=1",
      "&&",
      "a",
      "%zz=%zz",
      "x=%00",
      "limit=1&limit=2",
    ),
    fc.tuple(unicodeString(10), unicodeString(10)).map(([k, v]) => `${enc(k)}=${enc(v)}`),
  );
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant("") },
    {
      weight: 6,
      arbitrary: fc.array(pair, { minLength: 1, maxLength: 5 }).map((pairs) => `?${pairs.join("&")}`),
    },
  );
}
