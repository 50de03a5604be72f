/**
 * Structural comparison of two JSON Schemas on one side of an API. On the
 * input side (what clients send) the new schema must accept everything the
 * old one did; on the output side (what clients get) it may produce only what
 * the old one promised, except that new fields are fine (clients ignore
 * fields they don't know). What can't be shown compatible is breaking and
 * says why.
 */
import {
  asSchema,
  deref,
  describe,
  enumValues,
  isObject,
  jsonType,
  kindOf,
  mergeAllOf,
  normalize,
  type Schema,
  same,
  strip,
  variants,
} from "./json-schema.ts";

export type Mode = "input" | "output";
export type Finding = { kind: "breaking" | "additive"; what: string };
/** A schema and the document its `$ref`s point into. */
export type Rooted = { schema: unknown; root: unknown };
/** Where a schema sits: a base (`body`, `response 200`, `input`) and a field path. */
export type Place = { base: string; path: string[] };

/**
 * Differences between an old and a new schema on one side of an API.
 *
 * @example
 * diffSchema({ schema: oldIn, root: oldIn }, { schema: newIn, root: newIn }, "input", { base: "input", path: [] });
 * // → [{ kind: "breaking", what: 'input field "tz" is new and required' }]
 */
export function diffSchema(old: Rooted, neu: Rooted, mode: Mode, place: Place): Finding[] {
  const walker = new Walker(old.root, neu.root, mode, []);
  walker.diff(old.schema, neu.schema, place);
  const seen = new Set<string>();
  return walker.findings.filter((f) => !seen.has(f.what) && seen.add(f.what));
}

/** `input field "items[].kind"`, or the base alone at the top. */
export function placeName(at: Place): string {
  if (at.path.length === 0) return at.base;
  const field = at.path.reduce((acc, p) => (acc === "" || p === "[]" ? acc + p : `${acc}.${p}`), "");
  return `${at.base} field "${field}"`;
}

const child = (at: Place, key: string): Place => ({ base: at.base, path: [...at.path, key] });

type Bound = { value: number; exclusive: boolean } | undefined;
type Range = { lo: Bound; hi: Bound };

/** Keywords this comparison understands; a change in any other one can't be proven compatible. */
const UNDERSTOOD = new Set([
  ...["type", "enum", "const", "default", "anyOf", "oneOf"],
  ...["properties", "required", "additionalProperties", "items", "minItems", "maxItems"],
  ...["minLength", "maxLength", "pattern", "format"],
  ...["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"],
]);

class Walker {
  readonly findings: Finding[] = [];

  constructor(
    private readonly oldRoot: unknown,
    private readonly newRoot: unknown,
    private readonly mode: Mode,
    /** Pairs of references being compared further up: a cycle stops here. */
    private readonly refs: string[],
  ) {}

  private add(kind: Finding["kind"], what: string): void {
    this.findings.push({ kind, what });
  }
  /** The new schema accepts less than the old one: breaking for input, fine for output. */
  private narrowed(what: string): void {
    this.add(this.mode === "input" ? "breaking" : "additive", what);
  }
  /** The new schema accepts more: fine for input, breaking for output. */
  private widened(what: string): void {
    this.add(this.mode === "output" ? "breaking" : "additive", what);
  }

  diff(oldValue: unknown, newValue: unknown, at: Place): void {
    const o = deref(oldValue, this.oldRoot);
    const n = deref(newValue, this.newRoot);
    for (const missing of [o.missing, n.missing]) {
      if (missing)
        this.add("breaking", `cannot prove compatible: ${placeName(at)} refers to missing ${missing}`);
    }
    const pair = `${o.ref ?? ""}|${n.ref ?? ""}`;
    if ((o.ref || n.ref) && this.refs.includes(pair)) return;
    const inner =
      o.ref || n.ref ? new Walker(this.oldRoot, this.newRoot, this.mode, [...this.refs, pair]) : this;
    inner.compare(mergeAllOf(strip(o.schema), this.oldRoot), mergeAllOf(strip(n.schema), this.newRoot), at);
    if (inner !== this) this.findings.push(...inner.findings);
  }

  private compare(o: Schema, n: Schema, at: Place): void {
    if (this.mode === "input") this.defaults(o, n, at);
    const ov = variants(o, this.oldRoot);
    const nv = variants(n, this.newRoot);
    if (ov.length === 1 && nv.length === 1) this.branch(ov[0] as Schema, nv[0] as Schema, at, o, n);
    else this.union(ov, nv, at, o, n);
  }

  /** A default decides what an omitted input means: changing or dropping it changes old requests. */
  private defaults(o: Schema, n: Schema, at: Place): void {
    if (!("default" in o) && !("default" in n)) return;
    const was = JSON.stringify(o.default);
    const is = JSON.stringify(n.default);
    if (!("default" in n)) this.add("breaking", `default removed: ${placeName(at)} (was ${was})`);
    else if (!("default" in o)) this.add("additive", `default added: ${placeName(at)} ${is}`);
    else if (!same(o.default, n.default))
      this.add("breaking", `default changed: ${placeName(at)} ${was} → ${is}`);
  }

  /** A sub-comparison whose findings are kept apart (to try union branches). */
  private trial(o: Schema, n: Schema, at: Place): Finding[] {
    const w = new Walker(this.oldRoot, this.newRoot, this.mode, this.refs);
    w.branch(o, n, at, o, n);
    return w.findings;
  }

  /**
   * Unions: on the input side every old branch must fit a new one; on the
   * output side every new branch must fit an old one.
   */
  private union(ov: Schema[], nv: Schema[], at: Place, o: Schema, n: Schema): void {
    const change = `${describe(o, this.oldRoot)} → ${describe(n, this.newRoot)}`;
    const input = this.mode === "input";
    const [inner, outer] = input ? [ov, nv] : [nv, ov];
    const pairUp = (a: Schema, b: Schema) => (input ? this.trial(a, b, at) : this.trial(b, a, at));
    const before = this.findings.length;
    for (const member of inner) {
      const tries = outer.map((other) => ({ other, findings: pairUp(member, other) }));
      if (tries.some((t) => !t.findings.some((f) => f.kind === "breaking"))) continue;
      const alike = tries.filter((t) => family(t.other) === family(member));
      if (alike.length === 1) {
        this.findings.push(...(alike[0]?.findings ?? []));
        continue;
      }
      const what = describe(member, input ? this.oldRoot : this.newRoot);
      if (input)
        this.add("breaking", `narrowed type: ${placeName(at)} no longer accepts ${what} (${change})`);
      else this.add("breaking", `widened type: ${placeName(at)} may now be ${what} (${change})`);
    }
    // Every old branch fits (input) or every new one does (output): what is left is a widening or a narrowing.
    const broke = this.findings.slice(before).some((f) => f.kind === "breaking");
    if (!broke && !same(normalize(o, this.oldRoot), normalize(n, this.newRoot))) {
      this.add("additive", `${input ? "widened" : "narrowed"} type: ${placeName(at)} ${change}`);
    }
  }

  private branch(o: Schema, n: Schema, at: Place, wholeOld: Schema, wholeNew: Schema): void {
    const ok = kindOf(o);
    const nk = kindOf(n);
    const where = placeName(at);
    const change = `${describe(wholeOld, this.oldRoot)} → ${describe(wholeNew, this.newRoot)}`;
    const numbers = () => this.range("number range", numberRange(o), numberRange(n), where);
    if (ok === nk && ok !== "unknown") {
      if (ok === "enum") this.enums(o, n, where);
      else if (ok === "string") this.strings(o, n, where);
      else if (ok === "number" || ok === "integer") numbers();
      else if (ok === "array") this.arrays(o, n, at);
      else if (ok === "object") this.objects(o, n, at);
      this.unknownKeywords(o, n, where);
    } else if (nk === "any" || ok === "never") {
      this.widened(`widened type: ${where} ${change}`);
    } else if (ok === "any" || nk === "never") {
      this.narrowed(`narrowed type: ${where} ${change}`);
    } else if (ok === "integer" && nk === "number") {
      this.widened(`widened type: ${where} ${change}`);
      numbers();
    } else if (ok === "number" && nk === "integer") {
      this.narrowed(`narrowed type: ${where} ${change}`);
      numbers();
    } else if (nk === "enum" && enumValues(n).every((v) => fits(v, o))) {
      this.narrowed(`narrowed type: ${where} ${change}`);
    } else if (ok === "enum" && enumValues(o).every((v) => fits(v, n))) {
      this.widened(`widened type: ${where} ${change}`);
    } else if (ok === "unknown" && nk === "unknown") {
      this.unknownKeywords(o, n, where);
    } else {
      this.add("breaking", `type changed: ${where} ${change}`);
    }
  }

  private enums(o: Schema, n: Schema, where: string): void {
    const ov = enumValues(o);
    const nv = enumValues(n);
    for (const v of ov)
      if (!nv.some((x) => same(x, v))) this.narrowed(`enum value ${JSON.stringify(v)} removed: ${where}`);
    for (const v of nv)
      if (!ov.some((x) => same(x, v))) this.widened(`enum value ${JSON.stringify(v)} added: ${where}`);
  }

  private strings(o: Schema, n: Schema, where: string): void {
    const lo = (s: Schema): Bound =>
      typeof s.minLength === "number" ? { value: s.minLength, exclusive: false } : undefined;
    const hi = (s: Schema): Bound =>
      typeof s.maxLength === "number" ? { value: s.maxLength, exclusive: false } : undefined;
    this.range("string length", { lo: lo(o), hi: hi(o) }, { lo: lo(n), hi: hi(n) }, where);
    for (const k of ["pattern", "format"] as const) {
      const a = o[k];
      const b = n[k];
      if (same(a, b)) continue;
      if (a === undefined) this.narrowed(`${k} added: ${where} ${JSON.stringify(b)}`);
      else if (b === undefined) this.widened(`${k} removed: ${where} (was ${JSON.stringify(a)})`);
      else this.add("breaking", `${k} changed: ${where} ${JSON.stringify(a)} → ${JSON.stringify(b)}`);
    }
  }

  private arrays(o: Schema, n: Schema, at: Place): void {
    const lo = (s: Schema): Bound =>
      typeof s.minItems === "number" ? { value: s.minItems, exclusive: false } : undefined;
    const hi = (s: Schema): Bound =>
      typeof s.maxItems === "number" ? { value: s.maxItems, exclusive: false } : undefined;
    this.range("array size", { lo: lo(o), hi: hi(o) }, { lo: lo(n), hi: hi(n) }, placeName(at));
    this.diff(o.items ?? {}, n.items ?? {}, child(at, "[]"));
  }

  private objects(o: Schema, n: Schema, at: Place): void {
    const op = properties(o);
    const np = properties(n);
    const oreq = new Set((o.required as string[] | undefined) ?? []);
    const nreq = new Set((n.required as string[] | undefined) ?? []);
    const input = this.mode === "input";
    for (const [key, schema] of Object.entries(op)) {
      const f = child(at, key);
      const name = placeName(f);
      if (!(key in np)) {
        this.add("breaking", `${name} removed`);
        continue;
      }
      if (!oreq.has(key) && nreq.has(key))
        this.add(input ? "breaking" : "additive", `${name} became required`);
      if (oreq.has(key) && !nreq.has(key))
        this.add(
          input ? "additive" : "breaking",
          input ? `${name} became optional` : `${name} may now be absent`,
        );
      this.diff(schema, np[key], f);
    }
    for (const key of Object.keys(np)) {
      if (key in op) continue;
      const name = placeName(child(at, key));
      if (input && nreq.has(key)) this.add("breaking", `${name} is new and required`);
      else this.add("additive", `${name} added${input ? " (optional)" : ""}`);
    }
    this.extraFields(o.additionalProperties, n.additionalProperties, at);
  }

  /** `additionalProperties`: on the input side, refusing unknown fields is narrower; records compare their values. */
  private extraFields(a: unknown, b: unknown, at: Place): void {
    const open = (v: unknown) =>
      v === undefined || v === true || (isObject(v) && Object.keys(v).length === 0);
    if (same(a, b) || (open(a) && open(b))) return;
    const where = placeName(at);
    if (this.mode === "output") {
      if (isObject(a)) this.diff(a, b === false ? { not: {} } : asSchema(b), child(at, "*"));
      return;
    }
    if (b === false) this.add("breaking", `${where} no longer accepts fields it does not name`);
    else if (a === false) this.add("additive", `${where} now accepts fields it does not name`);
    else this.diff(asSchema(a), asSchema(b), child(at, "*"));
  }

  private range(label: string, o: Range, n: Range, where: string): void {
    const narrower = tighter(o.lo, n.lo, 1) || tighter(o.hi, n.hi, -1);
    const wider = tighter(n.lo, o.lo, 1) || tighter(n.hi, o.hi, -1);
    const change = `${where} ${showRange(o)} → ${showRange(n)}`;
    if (narrower) this.narrowed(`${label} narrowed: ${change}`);
    if (wider) this.widened(`${label} widened: ${change}`);
  }

  private unknownKeywords(o: Schema, n: Schema, where: string): void {
    for (const k of new Set([...Object.keys(o), ...Object.keys(n)])) {
      if (UNDERSTOOD.has(k)) continue;
      if (!same(normalize(o[k], this.oldRoot), normalize(n[k], this.newRoot))) {
        this.add("breaking", `cannot prove compatible: ${where} keyword "${k}" changed`);
      }
    }
    if (o.multipleOf !== n.multipleOf) {
      const a = o.multipleOf as number | undefined;
      const b = n.multipleOf as number | undefined;
      const what = `multipleOf changed: ${where} ${a ?? "none"} → ${b ?? "none"}`;
      if (a === undefined || (b !== undefined && b % a === 0)) this.narrowed(what);
      else if (b === undefined || a % b === 0) this.widened(what);
      else this.add("breaking", what);
    }
  }
}

/** Integers and numbers are one family: a union branch of one is compared with the other. */
const family = (s: Schema): string => (kindOf(s) === "integer" ? "number" : kindOf(s));

/** Declared properties, plus required names without a declaration (anything). */
function properties(s: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = { ...((s.properties as Record<string, unknown>) ?? {}) };
  for (const key of (s.required as string[] | undefined) ?? []) if (!(key in out)) out[key] = {};
  return out;
}

/** A number's bounds; for integers exclusive bounds become inclusive ones (> 0 is ≥ 1). */
function numberRange(s: Schema): Range {
  const int = s.type === "integer";
  const bound = (incl: unknown, excl: unknown, step: 1 | -1): Bound => {
    const candidates: Bound[] = [];
    if (typeof incl === "number") candidates.push({ value: incl, exclusive: false });
    if (typeof excl === "number") {
      candidates.push(int ? { value: excl + step, exclusive: false } : { value: excl, exclusive: true });
    }
    return candidates.reduce<Bound>((best, c) => (tighter(best, c, step) ? c : best), undefined);
  };
  return { lo: bound(s.minimum, s.exclusiveMinimum, 1), hi: bound(s.maximum, s.exclusiveMaximum, -1) };
}

/** Is bound `b` tighter than `a`? `dir` 1 for lower bounds, -1 for upper bounds. */
function tighter(a: Bound, b: Bound, dir: 1 | -1): boolean {
  if (!b) return false;
  if (!a) return true;
  if (b.value !== a.value) return (b.value - a.value) * dir > 0;
  return b.exclusive && !a.exclusive;
}

function showRange(r: Range): string {
  const parts = [
    r.lo ? `${r.lo.exclusive ? ">" : "≥"} ${r.lo.value}` : "",
    r.hi ? `${r.hi.exclusive ? "<" : "≤"} ${r.hi.value}` : "",
  ].filter(Boolean);
  return parts.length ? parts.join(" ") : "unbounded";
}

/** Does a value satisfy a simple (primitive) schema? Unknown constraints count as "can't tell" (no). */
function fits(v: unknown, s: Schema): boolean {
  const checks: Record<string, (x: unknown) => boolean> = {
    type: (t) => jsonType(v, t as string),
    minLength: (m) => typeof v === "string" && [...v].length >= (m as number),
    maxLength: (m) => typeof v === "string" && [...v].length <= (m as number),
    pattern: (p) => typeof v === "string" && new RegExp(p as string, "u").test(v),
    minimum: (m) => typeof v === "number" && v >= (m as number),
    maximum: (m) => typeof v === "number" && v <= (m as number),
    exclusiveMinimum: (m) => typeof v === "number" && v > (m as number),
    exclusiveMaximum: (m) => typeof v === "number" && v < (m as number),
  };
  return Object.entries(s).every(([k, x]) => k === "default" || (checks[k]?.(x) ?? false));
}
