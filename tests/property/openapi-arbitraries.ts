/**
 * fast-check arbitraries of whole HTTP requests for the operations of an
 * OpenAPI 3.1 document: path parameters (real ids, other ids, traversal),
 * query strings (wrong values, duplicated and unknown keys), headers
 * (auth, Content-Type, reserved and huge ones), methods, and bodies from the
 * operation's schema (bodies.ts). The requests go out through fetch.
 */
import fc from "fast-check";
import { type Body, jsonBody, multipartBody } from "./bodies.ts";
import {
  authorization,
  contentType,
  extraHeaders,
  type Header,
  type HeaderContext,
  hugeHeader,
} from "./hostile-headers.ts";
import { type Operation, operationName } from "./operations.ts";
import { pathFor, queryFor, type TargetContext } from "./targets.ts";

/** One request to send, with a short description for failure reports. */
export class HostileRequest {
  constructor(
    readonly operation: string,
    readonly method: string,
    /** Path and query, already percent-encoded as they will go out. */
    readonly target: string,
    readonly headers: readonly Header[],
    readonly body: Uint8Array<ArrayBuffer> | null,
    readonly notes: readonly string[],
  ) {}

  /** What fast-check prints for a counterexample: enough to replay, without a megabyte of body. */
  [fc.toStringMethod](): string {
    const headers = this.headers.map(([n, v]) => `${n}: ${clip(v, 120)}`).join(" | ");
    const body = this.body ? clip(new TextDecoder().decode(this.body), 300) : "(none)";
    return `${this.method} ${clip(this.target, 300)} [${this.operation}; ${this.notes.join("; ")}]\n  headers: ${headers}\n  body (${this.body?.length ?? 0} B): ${body}`;
  }
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…(${s.length} chars)` : s);

/** What the generators need from the running system. */
export type RequestContext = HeaderContext & TargetContext;

const OTHER_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND", "BREW"];
const WITH_BODY = new Set(["POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** The operation's own method mostly, sometimes one it does not serve. */
const methodFor = (op: Operation) =>
  fc.oneof(
    { weight: 9, arbitrary: fc.constant(op.method) },
    { weight: 1, arbitrary: fc.constantFrom(...OTHER_METHODS) },
  );

function bodyFor(op: Operation, ctx: RequestContext): fc.Arbitrary<Body | null> {
  if (!op.body) {
    // A body where none is expected, now and then.
    return fc.option(
      fc.constant({
        bytes: new TextEncoder().encode('{"x":1}'),
        contentType: "application/json",
        note: "unexpected body",
      }),
      { freq: 8, nil: null },
    );
  }
  const arb = op.body.mediaType.startsWith("multipart/")
    ? multipartBody(ctx.resolve, op.body.schema)
    : jsonBody(ctx.resolve, op.body.schema);
  return fc.option(arb, { freq: 12, nil: null });
}

/**
 * The bytes of a request's head as the server's parser counts them: request
 * line and header lines, plus what fetch adds (Host, User-Agent, Accept…).
 */
export const headBytes = (method: string, target: string, headers: readonly Header[]) =>
  method.length + target.length + 12 + headers.reduce((n, [k, v]) => n + k.length + v.length + 4, 0) + 200;

/**
 * Requests a head must fit in to reach the edge at all: Bun's parser refuses
 * a head over 16 KiB itself (a bare 431). Heads at the edge's limits are the
 * business of `requestAtLimits`; these stay below.
 */
export const HEAD_BUDGET = 15 * 1024;

/**
 * Requests for one operation, honest and hostile mixed: most carry the
 * caller's real token and a body the schema allows, so that the bad part of
 * each request is tested deep in the handler and not only at the door.
 *
 * @example
 * fc.assert(fc.asyncProperty(requestFor(op, ctx), async (req) => { … }));
 */
export function requestFor(op: Operation, ctx: RequestContext): fc.Arbitrary<HostileRequest> {
  return fc
    .record({
      method: methodFor(op),
      path: pathFor(op, ctx),
      query: queryFor(op, ctx),
      auth: authorization(ctx.token),
      body: bodyFor(op, ctx),
      extra: extraHeaders(),
    })
    .chain((r) => contentType(r.body?.contentType ?? "application/json").map((type) => ({ ...r, type })))
    .map(({ method, path, query, auth, body, extra, type }) => {
      const headers: Header[] = [...extra];
      if (auth !== null) headers.push(["authorization", auth]);
      if (body && type !== null) headers.push(["content-type", type]);
      // fetch refuses a body on GET and HEAD (and on methods it does not know): those go without one.
      const bytes = WITH_BODY.has(method) ? (body?.bytes ?? null) : null;
      const notes = [body?.note ?? "no body", authNote(auth, ctx.token)];
      return new HostileRequest(operationName(op), method, path + query, headers, bytes, notes);
    })
    .filter((r) => headBytes(r.method, r.target, r.headers) <= HEAD_BUDGET);
}

/**
 * Requests whose header block or target sits just under or over the edge's
 * limits (EDGE_MAX_HEADER_BYTES, EDGE_MAX_URL_BYTES): under, they are
 * served; over, the edge must answer its own 431 or 414 problem. Whether the
 * edge gets to answer depends on the runtime's parser letting the head through.
 *
 * @example
 * fc.assert(fc.asyncProperty(requestAtLimits(op, ctx, 8192), async (req) => { … }));
 */
export function requestAtLimits(
  op: Operation,
  ctx: RequestContext,
  maxUrlBytes: number,
): fc.Arbitrary<HostileRequest> {
  const longTarget = fc
    .integer({ min: maxUrlBytes - 500, max: maxUrlBytes + 4096 })
    .map((n) => (p: string) => `${p}?pad=${"q".repeat(Math.max(0, n - p.length - 5))}`);
  return fc
    .record({
      path: pathFor(op, ctx),
      auth: authorization(ctx.token),
      which: fc.constantFrom("header", "target"),
      huge: hugeHeader(ctx.maxHeaderBytes),
      long: longTarget,
    })
    .map(({ path, auth, which, huge, long }) => {
      const headers: Header[] = auth === null ? [] : [["authorization", auth]];
      if (which === "header") headers.push(huge);
      const target = which === "target" ? long(path) : path;
      const note =
        which === "header" ? `header block ~${headBytes("", "", headers)} B` : `target ${target.length} B`;
      return new HostileRequest(operationName(op), op.method, target, headers, null, [
        note,
        authNote(auth, ctx.token),
      ]);
    });
}

const authNote = (auth: string | null, token: string) =>
  auth === null ? "no auth" : auth === `Bearer ${token}` ? "token" : "bad auth";
