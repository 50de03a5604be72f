/**
 * Compares two OpenAPI 3.1 documents of one service, operation by operation:
 * parameters and request bodies as inputs, responses as outputs. Schemas'
 * `$ref`s resolve within their own document.
 */
import { deref, isObject, normalize, type Schema, same } from "./json-schema.ts";
import { diffSchema, type Finding } from "./schema-diff.ts";
import type { Change } from "./types.ts";

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

type Doc = Record<string, unknown>;
type Op = Schema;

/**
 * The changes between two OpenAPI documents.
 *
 * @example
 * compareOpenApi("runs", snapshot.openapi, current.openapi);
 * // → [{ kind: "breaking", where: "runs: DELETE /api/runs/runs/{id}", what: "route removed" }]
 */
export function compareOpenApi(service: string, old: Doc, neu: Doc): Change[] {
  const out: Change[] = [];
  const oldOps = operations(old);
  const newOps = operations(neu);
  for (const [key, o] of oldOps) {
    const where = `${service}: ${key}`;
    const n = newOps.get(key);
    if (!n) out.push({ kind: "breaking", where, what: "route removed" });
    else out.push(...new Operation(old, neu, o, n).changes().map((f) => ({ ...f, where })));
  }
  for (const key of newOps.keys()) {
    if (!oldOps.has(key)) out.push({ kind: "additive", where: `${service}: ${key}`, what: "route added" });
  }
  return out;
}

/** `GET /api/runs/runs/{id}` → the operation, with its path item's parameters merged in. */
function operations(doc: Doc): Map<string, Op> {
  const out = new Map<string, Op>();
  const paths = isObject(doc.paths) ? doc.paths : {};
  for (const [path, item] of Object.entries(paths)) {
    if (!isObject(item)) continue;
    const shared = Array.isArray(item.parameters) ? item.parameters : [];
    for (const method of METHODS) {
      const op = item[method];
      if (!isObject(op)) continue;
      const own = Array.isArray(op.parameters) ? op.parameters : [];
      out.set(`${method.toUpperCase()} ${path}`, { ...op, parameters: [...shared, ...own] });
    }
  }
  return out;
}

class Operation {
  private readonly out: Finding[] = [];

  constructor(
    private readonly oldDoc: Doc,
    private readonly newDoc: Doc,
    private readonly o: Op,
    private readonly n: Op,
  ) {}

  changes(): Finding[] {
    this.parameters();
    this.body();
    this.responses();
    if (!same(this.o.security, this.n.security))
      this.out.push({ kind: "breaking", what: "security requirements changed" });
    return this.out;
  }

  private breaking(what: string) {
    this.out.push({ kind: "breaking", what });
  }
  private additive(what: string) {
    this.out.push({ kind: "additive", what });
  }
  private schemas(o: unknown, n: unknown, mode: "input" | "output", base: string) {
    this.out.push(
      ...diffSchema({ schema: o, root: this.oldDoc }, { schema: n, root: this.newDoc }, mode, {
        base,
        path: [],
      }),
    );
  }

  private parameters(): void {
    const params = (op: Op, doc: Doc) =>
      new Map(
        (op.parameters as unknown[]).map((p) => {
          const param = deref(p, doc).schema;
          return [`${param.in} parameter "${param.name}"`, param] as const;
        }),
      );
    const olds = params(this.o, this.oldDoc);
    const news = params(this.n, this.newDoc);
    for (const [name, o] of olds) {
      const n = news.get(name);
      if (!n) {
        this.breaking(`${name} removed`);
        continue;
      }
      if (!o.required && n.required) this.breaking(`parameter became required: ${name}`);
      if (o.required && !n.required) this.additive(`parameter became optional: ${name}`);
      for (const k of ["style", "explode", "allowReserved", "content"]) {
        if (!same(o[k], n[k])) this.breaking(`cannot prove compatible: ${name} "${k}" changed`);
      }
      this.schemas(o.schema ?? {}, n.schema ?? {}, "input", name);
    }
    for (const [name, n] of news) {
      if (olds.has(name)) continue;
      if (n.required) this.breaking(`${name} is new and required`);
      else this.additive(`${name} added (optional)`);
    }
  }

  private body(): void {
    const o = this.o.requestBody ? deref(this.o.requestBody, this.oldDoc).schema : undefined;
    const n = this.n.requestBody ? deref(this.n.requestBody, this.newDoc).schema : undefined;
    if (!o && n?.required) this.breaking("body is new and required");
    else if (!o && n) this.additive("body added (optional)");
    else if (o && !n) this.breaking("body removed");
    if (!o || !n) return;
    if (!o.required && n.required) this.breaking("body became required");
    if (o.required && !n.required) this.additive("body became optional");
    this.content(o.content, n.content, "body", "input");
  }

  private responses(): void {
    const olds = isObject(this.o.responses) ? this.o.responses : {};
    const news = isObject(this.n.responses) ? this.n.responses : {};
    for (const [status, raw] of Object.entries(olds)) {
      const base = `response ${status}`;
      if (!(status in news)) {
        this.breaking(`${base} removed`);
        continue;
      }
      const o = deref(raw, this.oldDoc).schema;
      const n = deref(news[status], this.newDoc).schema;
      this.content(o.content, n.content, base, "output");
      const oh = isObject(o.headers) ? o.headers : {};
      const nh = isObject(n.headers) ? n.headers : {};
      for (const h of Object.keys(oh)) if (!(h in nh)) this.breaking(`${base} header "${h}" removed`);
      for (const h of Object.keys(nh)) if (!(h in oh)) this.additive(`${base} header "${h}" added`);
    }
    for (const status of Object.keys(news)) if (!(status in olds)) this.additive(`response ${status} added`);
  }

  /** Media types of a body or response: one removed is breaking; each kept one compares its schema. */
  private content(o: unknown, n: unknown, base: string, mode: "input" | "output"): void {
    const oc = isObject(o) ? o : {};
    const nc = isObject(n) ? n : {};
    for (const [type, media] of Object.entries(oc)) {
      const where = type === "application/json" ? base : `${base} (${type})`;
      const other = nc[type];
      if (!isObject(other)) {
        this.breaking(`${base} content type "${type}" removed`);
        continue;
      }
      const schema = (m: unknown) => (isObject(m) ? (m.schema ?? {}) : {});
      if (same(normalize(schema(media), this.oldDoc), normalize(schema(other), this.newDoc))) continue;
      this.schemas(schema(media), schema(other), mode, where);
    }
    for (const type of Object.keys(nc))
      if (!(type in oc)) this.additive(`${base} content type "${type}" added`);
  }
}
