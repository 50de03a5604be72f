/**
 * Request bodies for an operation: JSON documents built from its schema
 * (valid, subtly broken, or not JSON at all), multipart uploads (GPX files
 * good and evil, broken framing), and raw bytes that are not even UTF-8.
 * Each body comes with the Content-Type an honest client would send.
 */
import fc from "fast-check";
import { type JsonSchema, type Resolve, validValue } from "./json-schema.ts";
import { hostileValue } from "./json-schema-hostile.ts";
import { deeplyNested, toJsonText } from "./json-text.ts";

/** Body bytes, the media type they really are, and what was done to them. */
export type Body = { bytes: Uint8Array<ArrayBuffer>; contentType: string; note: string };

const utf8 = (text: string) => new TextEncoder().encode(text);
const body = (text: string | Uint8Array<ArrayBuffer>, contentType: string, note: string): Body => ({
  bytes: typeof text === "string" ? utf8(text) : text,
  contentType,
  note,
});

/** Byte sequences that are not UTF-8: stray continuation bytes, overlong forms, encoded surrogates. */
const BAD_UTF8 = [
  [0xff, 0xfe],
  [0xc0, 0xaf],
  [0xe2, 0x82],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0x80],
];

function withBytesInside(text: string, bad: number[]): Uint8Array<ArrayBuffer> {
  const at = Math.max(text.indexOf('"') + 1, 0); // inside the first string, when there is one
  const head = utf8(text.slice(0, at));
  const tail = utf8(text.slice(at));
  return new Uint8Array([...head, ...bad, ...tail]);
}

/**
 * JSON bodies for `schema`: valid ones (so handlers run), broken ones from
 * `hostileValue`, and text that only pretends to be JSON.
 */
export function jsonBody(resolve: Resolve, schema: JsonSchema): fc.Arbitrary<Body> {
  const json = "application/json";
  const valid = validValue(resolve, schema).map((v) => body(toJsonText(v), json, "valid"));
  const hostile = hostileValue(resolve, schema).map((v) => body(toJsonText(v), json, "hostile"));
  const notJson = fc.oneof(
    valid.chain((b) => fc.nat(b.bytes.length).map((n) => body(b.bytes.slice(0, n), json, "truncated"))),
    fc
      .constantFrom("", " ", "null", "[]", "0", '"x"', "{", "}", "{'a':1}", "{a:1}", '{"a":1}}', "a=1&b=2")
      .map((t) => body(t, json, "not an object")),
    fc
      .tuple(fc.integer({ min: 1_000, max: 200_000 }), fc.constantFrom("array" as const, "object" as const))
      .map(([d, kind]) => body(deeplyNested(d, kind), json, `nested ${d} deep`)),
    valid.map((b) => body(new Uint8Array([0xef, 0xbb, 0xbf, ...b.bytes]), json, "BOM first")),
    fc
      .tuple(valid, fc.constantFrom(...BAD_UTF8))
      .map(([b, bad]) =>
        body(withBytesInside(new TextDecoder().decode(b.bytes), bad), json, "invalid UTF-8"),
      ),
    valid.map((b) => body(new Uint8Array([...b.bytes, 0, 0, 0]), json, "trailing NULs")),
    valid.map((b) =>
      body(
        `${new TextDecoder().decode(b.bytes)}\n${new TextDecoder().decode(b.bytes)}`,
        json,
        "two documents",
      ),
    ),
  );
  return fc.oneof(
    { weight: 5, arbitrary: valid }, // enough to reach the handlers' success paths
    { weight: 6, arbitrary: hostile },
    { weight: 3, arbitrary: notJson },
  );
}

const gpx = (points: string, extra = "") =>
  `<?xml version="1.0"?>${extra}<gpx version="1.1" creator="t"><trk><name>t</name><trkseg>${points}</trkseg></trk></gpx>`;
const point = (i: number, lat = 52 + i * 0.0005) =>
  `<trkpt lat="${lat}" lon="4.9"><ele>${i % 7}</ele><time>${new Date(Date.UTC(2026, 10, 1, 7, 0, i * 10)).toISOString()}</time></trkpt>`;

/** GPX files: a good one, and ones that are malformed, hostile or absurd. */
const gpxFile = (): fc.Arbitrary<{ text: string; note: string }> =>
  fc.oneof(
    fc
      .integer({ min: 2, max: 200 })
      .map((n) => ({ text: gpx(Array.from({ length: n }, (_, i) => point(i)).join("")), note: "gpx" })),
    fc.constantFrom(
      { text: "", note: "empty file" },
      { text: "not xml at all", note: "not xml" },
      { text: gpx(point(0)), note: "one point" },
      { text: gpx(`${point(0)}${point(0)}`), note: "no distance" },
      { text: gpx('<trkpt lat="NaN" lon="1e400"><time>never</time></trkpt>'.repeat(3)), note: "bad numbers" },
      { text: gpx(`${point(0, 91)}${point(1, -91)}`), note: "latitudes off the globe" },
      {
        text: gpx(point(1), '<!DOCTYPE gpx [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'),
        note: "entities",
      },
      {
        text: gpx(point(1), '<!DOCTYPE gpx [<!ENTITY x SYSTEM "file:///etc/passwd">]>'),
        note: "external entity",
      },
      { text: gpx(point(1)).replace("<gpx", "<gpx xmlns:x='\u0000'"), note: "NUL attribute" },
    ),
    fc.integer({ min: 50, max: 100_000 }).map((d) => ({
      text: `<gpx>${"<a>".repeat(d)}${"</a>".repeat(d)}</gpx>`,
      note: `xml nested ${d} deep`,
    })),
    fc
      .integer({ min: 1_000, max: 60_000 })
      .map((n) => ({ text: gpx(point(0).repeat(n)), note: `${n} identical points` })),
  );

/** A multipart/form-data body assembled by hand, so its framing can be broken on purpose. */
function multipart(boundary: string, parts: string[], close: boolean): string {
  const body = parts.map((p) => `--${boundary}\r\n${p}\r\n`).join("");
  return close ? `${body}--${boundary}--\r\n` : body;
}
const filePart = (text: string, name = "file") =>
  `Content-Disposition: form-data; name="${name}"; filename="run.gpx"\r\nContent-Type: application/gpx+xml\r\n\r\n${text}`;
const fieldPart = (name: string, value: string) =>
  `Content-Disposition: form-data; name="${name}"\r\n\r\n${value}`;

/** Multipart uploads for a form schema (a `file` field plus optional text fields). */
export function multipartBody(resolve: Resolve, schema: JsonSchema): fc.Arbitrary<Body> {
  const s = resolve(schema);
  const textFields = Object.keys(s.properties ?? {}).filter((k) => k !== "file");
  const fieldValue = (name: string) =>
    fc
      .oneof(
        validValue(resolve, s.properties?.[name] ?? {}),
        hostileValue(resolve, s.properties?.[name] ?? {}),
      )
      .map((v) => (typeof v === "string" ? v : toJsonText(v)));
  const fields = fc.array(
    fc
      .constantFrom(...textFields, "file", "__proto__")
      .chain((n) => fieldValue(n).map((v) => fieldPart(n, v))),
    { maxLength: 3 },
  );
  return fc
    .record({
      boundary: fc.constantFrom("b0undary", "x".repeat(70), "a b", "--", "\u00e9"),
      file: fc.option(gpxFile(), { freq: 6, nil: null }),
      fields,
      twoFiles: fc.boolean(),
      close: fc.constantFrom(true, true, true, true, false), // mostly well framed
      headerBoundary: fc.constantFrom("same", "other", "none"),
    })
    .map(({ boundary, file, fields, twoFiles, close, headerBoundary }) => {
      const parts = [
        ...(file ? [filePart(file.text)] : []),
        ...(file && twoFiles ? [filePart("second")] : []),
        ...fields,
      ];
      const declared = headerBoundary === "same" ? boundary : headerBoundary === "other" ? "other" : null;
      const type = declared === null ? "multipart/form-data" : `multipart/form-data; boundary=${declared}`;
      const note = `multipart ${file?.note ?? "no file"}${close ? "" : ", unterminated"}, boundary ${headerBoundary}`;
      return body(multipart(boundary, parts, close), type, note);
    });
}
