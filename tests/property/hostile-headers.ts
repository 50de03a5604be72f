/**
 * Request headers a hostile client sends: Authorization that is missing,
 * malformed, tampered or forged; Content-Type that lies about the body or is
 * given twice with conflicting values; reserved mesh headers a client must
 * not be able to set; garbage in headers the edge parses (traceparent,
 * Idempotency-Key); and values huge enough to sit just under or over the
 * edge's header limit. Values stay within what fetch may send (ByteStrings
 * without CR, LF or NUL); raw-http.ts covers the bytes fetch refuses.
 */
import fc from "fast-check";

export type Header = readonly [name: string, value: string];

/** What the headers are built from: a real access token and the edge's limit. */
export type HeaderContext = { token: string; maxHeaderBytes: number };

const b64url = (text: string) => Buffer.from(text).toString("base64url");

/** A token with the same claims but no signature (`alg: none`): the classic forgery. */
function unsignedCopy(token: string): string {
  const payload = token.split(".")[1] ?? "";
  return `${b64url(JSON.stringify({ alg: "none", typ: "at+jwt" }))}.${payload}.`;
}

/** The token with one character of its signature changed. */
function tampered(token: string): string {
  const last = token.at(-2) === "A" ? "B" : "A";
  return `${token.slice(0, -2)}${last}${token.at(-1)}`;
}

/** Values of `Authorization`, from a valid token to forgeries; `null` sends none. */
export function authorization(token: string): fc.Arbitrary<string | null> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constant(`Bearer ${token}`) },
    { weight: 2, arbitrary: fc.constant(null) },
    {
      weight: 4,
      arbitrary: fc.oneof(
        fc.constantFrom(
          "Bearer",
          "Bearer ",
          "Bearer a.b.c",
          "Bearer ..",
          "Basic dXNlcjpwYXNzd29yZA==",
          `bearer ${token}`,
          `Bearer  ${token}`,
          `Bearer ${token}, Bearer ${token}`, // two Authorization headers, as fetch joins them
          `Bearer ${token}, Bearer garbage`,
          `Bearer ${tampered(token)}`,
          `Bearer ${unsignedCopy(token)}`,
          `Bearer ${token.split(".").slice(0, 2).join(".")}.`,
          `Bearer ${b64url("{}")}.${b64url("{}")}.${b64url("x")}`,
          `Bearer ${"a".repeat(8000)}.${"b".repeat(4000)}.c`,
        ),
        fc.string({ unit: "binary-ascii", maxLength: 60 }).map((s) => `Bearer ${printable(s)}`),
      ),
    },
  );
}

/** Content-Type as sent: the honest one, a variant, a lie, two at once, or none (`null`). */
export function contentType(honest: string): fc.Arbitrary<string | null> {
  return fc.oneof(
    { weight: 10, arbitrary: fc.constant(honest) },
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        null,
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "application/json",
        "application/json; charset=utf-16",
        "application/json; charset=x-evil",
        "APPLICATION/JSON",
        "application/json;;;",
        "application/vnd.api+json",
        "application/xml",
        "*/*",
        "",
        `${honest}, text/plain`, // two Content-Type headers, as fetch joins them
        `text/plain, ${honest}`,
      ),
    },
  );
}

/** Keeps visible ASCII (and spaces), which any header value may hold. */
const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, "");

/** Latin-1 text: the widest a header value can be through fetch. */
const latin1 = (maxLength: number) =>
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c === 0x7f ? 0x20 : c)),
    maxLength,
  });

/** Headers a client has no business sending, and garbage in the ones the mesh reads. */
export function extraHeaders(): fc.Arbitrary<Header[]> {
  const one: fc.Arbitrary<Header> = fc.oneof(
    // Reserved families the edge must strip (Http-*, Mesh-*, Nats-*).
    fc.constantFrom<Header>(
      ["mesh-user", "someone-else"],
      ["Mesh-Deadline", "0"],
      ["mesh-request-id", "x".repeat(300)],
      ["http-path", "/api/accounts/me"],
      ["http-method", "DELETE"],
      ["Http-Status", "200"],
      ["nats-msg-id", "dup"],
      ["Nats-Service-Error-Code", "500"],
    ),
    fc.tuple(
      fc.constantFrom(
        "traceparent",
        "tracestate",
        "idempotency-key",
        "accept",
        "accept-encoding",
        "origin",
        "cookie",
        "range",
        "x-forwarded-for",
        "if-none-match",
        "expect",
        "forwarded",
      ),
      latin1(300),
    ),
    fc.constantFrom<Header>(
      ["traceparent", "00-00000000000000000000000000000000-0000000000000000-01"],
      ["traceparent", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
      ["idempotency-key", ""],
      ["accept", "application/xml"],
      ["expect", "100-continue"],
      ["accept-encoding", "gzip, deflate, br, zstd"],
      ["connection", "close"],
      ["x-http-method-override", "DELETE"],
    ),
  );
  return fc.array(one, { maxLength: 4 });
}

/**
 * One header whose value alone brings the block just under, or over, the
 * edge's limit (`maxHeaderBytes` counts names and values). Over it, the edge
 * must answer its own 431 problem — which it can only do if the runtime's
 * HTTP parser lets such a block through to it.
 */
export function hugeHeader(maxHeaderBytes: number): fc.Arbitrary<Header> {
  return fc
    .oneof(
      fc.integer({ min: maxHeaderBytes - 2000, max: maxHeaderBytes - 1200 }), // under, with room for the others
      fc.integer({ min: maxHeaderBytes + 1, max: maxHeaderBytes + 4096 }), // over the edge's limit
    )
    .map((n): Header => ["x-padding", "p".repeat(n)]);
}
