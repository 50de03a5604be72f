/**
 * Raw HTTP/1.x requests for an operation, with what fetch normalises or
 * refuses: dot segments and bytes that are not ASCII in the request line,
 * absolute-form targets, HTTP/1.0 without Host, duplicated Host,
 * Authorization and Content-Type lines, malformed header lines, and bodies
 * whose framing lies (Content-Length larger or smaller than the body, two
 * lengths, lengths that are not numbers, chunked coding gone wrong).
 */
import fc from "fast-check";
import { type Body, jsonBody, multipartBody } from "./bodies.ts";
import { type Operation, operationName } from "./operations.ts";
import { concat, framing, latin1 } from "./raw-framing.ts";
import { pathFor, queryFor, type TargetContext } from "./targets.ts";

/** A request as bytes, and whether we end our side after writing it. */
export class RawRequest {
  constructor(
    readonly operation: string,
    readonly bytes: Uint8Array,
    /** True when the framing promises more body than we send: we leave, so the server is not waiting on us. */
    readonly halfClose: boolean,
    /** True when bytes follow the body the framing announces: the server reads them as a next request. */
    readonly surplus: boolean,
    readonly version: string,
    readonly notes: readonly string[],
  ) {}

  /** What fast-check prints for a counterexample. */
  [fc.toStringMethod](): string {
    const text = Buffer.from(this.bytes).toString("latin1");
    const shown = text.length > 1200 ? `${text.slice(0, 1200)}…(${text.length} bytes)` : text;
    return `[${this.operation}; ${this.notes.join("; ")}${this.halfClose ? "; half-closed" : ""}]\n${JSON.stringify(shown)}`;
  }
}

export type RawContext = TargetContext & { token: string; maxBodyBytes: number };

const utf8 = (s: string) => new TextEncoder().encode(s);

/** Targets fetch would normalise away: dot segments, absolute form, raw UTF-8 and invalid bytes. */
function rawTarget(op: Operation, ctx: TargetContext): fc.Arbitrary<Uint8Array> {
  const base = fc.tuple(pathFor(op, ctx), queryFor(op, ctx)).map(([p, q]) => p + q);
  const prefix = op.path.split("/").slice(0, 3).join("/"); // "/api/runs"
  return fc.oneof(
    { weight: 6, arbitrary: base.map(latin1) },
    {
      weight: 3,
      arbitrary: fc
        .constantFrom(
          `${prefix}/../accounts/me`,
          `${prefix}/../../_/routes`,
          `${prefix}/./${op.path.split("/").slice(3).join("/")}`,
          `/api/../${prefix.slice(1)}/x`,
          "/..",
          `//${op.path.slice(1)}`,
        )
        .map(latin1),
    },
    { weight: 1, arbitrary: base.map((t) => latin1(`http://evil.example${t}`)) },
    { weight: 1, arbitrary: base.map((t) => utf8(`${t}\u00e9\u{1F3C3}`)) },
    { weight: 1, arbitrary: base.map((t) => concat(latin1(t), new Uint8Array([0xff, 0xfe, 0xc0, 0xaf]))) },
  );
}

/** Host lines: one (mostly), none, two, or values that are not a host. */
const hostLines = fc.oneof(
  { weight: 8, arbitrary: fc.constant(["Host: 127.0.0.1"]) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      [],
      ["Host: a", "Host: b"],
      ["Host: "],
      ["Host: a b"],
      ["Host: @evil:99/"],
      ["Host: [::1"],
    ),
  },
);

/** Authorization lines: the token, none, or the token and garbage on two lines (either order). */
const authLines = (token: string) =>
  fc.constantFrom(
    [`Authorization: Bearer ${token}`],
    [`Authorization: Bearer ${token}`],
    [],
    [`Authorization: Bearer ${token}`, "Authorization: Bearer garbage"],
    ["Authorization: Basic eDp5", `Authorization: Bearer ${token}`],
  );

/** Header lines a parser may choke on. */
const junkLines = fc.array(
  fc.constantFrom(
    "X-Folded: a\r\n b", // obs-fold
    "NoColonHere",
    "X-Space : before colon",
    "X-Nul: a\u0000b",
    "X-Latin: caf\u00e9",
    ": empty name",
    "X-Empty:",
    "Connection: close",
    "Expect: 100-continue",
    "Content-Type: text/plain",
  ),
  { maxLength: 2 },
);

function bodyOf(op: Operation, ctx: TargetContext): fc.Arbitrary<Body> {
  if (op.body?.mediaType.startsWith("multipart/")) return multipartBody(ctx.resolve, op.body.schema);
  return jsonBody(ctx.resolve, op.body?.schema ?? {});
}

/**
 * Raw requests for one operation; about half of them carry no body at all.
 *
 * @example
 * fc.assert(fc.asyncProperty(rawRequestFor(op, ctx), async (raw) => { … exchange(port, raw.bytes, …) … }));
 */
export function rawRequestFor(op: Operation, ctx: RawContext): fc.Arbitrary<RawRequest> {
  const method = fc.oneof(
    { weight: 8, arbitrary: fc.constant(op.method) },
    { weight: 1, arbitrary: fc.constantFrom("get", "BREW", "PROPFIND", "OPTIONS") },
  );
  const version = fc.oneof(
    { weight: 12, arbitrary: fc.constant("HTTP/1.1") },
    { weight: 2, arbitrary: fc.constant("HTTP/1.0") },
    { weight: 1, arbitrary: fc.constantFrom("HTTP/2.0", "HTTP/0.9") },
  );
  const withBody = fc.option(
    bodyOf(op, ctx).chain((b) => framing(b.bytes, ctx.maxBodyBytes).map((f) => ({ b, f }))),
    { freq: 2, nil: null },
  );
  return fc
    .record({
      method,
      version,
      target: rawTarget(op, ctx),
      host: hostLines,
      auth: authLines(ctx.token),
      junk: junkLines,
      withBody,
    })
    .map(({ method, version, target, host, auth, junk, withBody }) => {
      const lines: string[] = [...host, ...auth, ...junk];
      if (withBody) lines.push(`Content-Type: ${withBody.b.contentType}`, ...withBody.f.lines);
      const head = latin1(` ${version}\r\n${lines.map((l) => `${l}\r\n`).join("")}\r\n`);
      const bytes = concat(latin1(`${method} `), target, head, withBody?.f.body ?? new Uint8Array(0));
      const notes = [
        version,
        host.join(" | ") || "no Host",
        withBody ? `${withBody.b.note}, ${withBody.f.note}` : "no body",
      ];
      const f = withBody?.f;
      return new RawRequest(
        operationName(op),
        bytes,
        f?.incomplete ?? false,
        f?.surplus ?? false,
        version,
        notes,
      );
    });
}
