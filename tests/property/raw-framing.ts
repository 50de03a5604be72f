/**
 * How a raw request's body is framed, and whether that framing lies: the
 * bytes of the body, the header lines that announce it, and what the server
 * should make of it (wait for more, or read the surplus as a next request).
 */
import fc from "fast-check";

/** The bytes of `parts`, one after another. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A string's code units as bytes (Latin-1): how raw HTTP text is written here. */
export const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

/** How the body is framed, and whether that framing is a lie. */
export type Framing = {
  lines: string[];
  body: Uint8Array;
  incomplete: boolean;
  note: string;
  surplus?: boolean;
};
const frame = (f: Framing): Framing => f;

function chunked(body: Uint8Array, terminate: boolean): Uint8Array {
  const mid = Math.floor(body.length / 2);
  const parts = [body.slice(0, mid), body.slice(mid)].filter((p) => p.length);
  const framed = parts.flatMap((p) => [latin1(`${p.length.toString(16)}\r\n`), p, latin1("\r\n")]);
  return concat(...framed, terminate ? latin1("0\r\n\r\n") : new Uint8Array(0));
}

/**
 * Framings of `body`: honest, with a Content-Length too large (the body is
 * then incomplete: we leave) or too small (the rest becomes a next request),
 * lengths given twice or not as numbers, chunked coding right and wrong, and
 * both at once.
 *
 * @example
 * fc.sample(framing(utf8('{"a":1}'), 6 << 20), 1) // [{ lines: ["Content-Length: 3"], surplus: true, … }]
 */
export function framing(body: Uint8Array, maxBodyBytes: number): fc.Arbitrary<Framing> {
  const n = body.length;
  const cl = (v: string | number) => `Content-Length: ${v}`;
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constant(frame({ lines: [cl(n)], body, incomplete: false, note: "exact length" })),
    },
    {
      weight: 3,
      arbitrary: fc
        .integer({ min: 1, max: 100_000 })
        .map((extra) =>
          frame({ lines: [cl(n + extra)], body, incomplete: true, note: `length ${extra} B too large` }),
        ),
    },
    {
      weight: 3,
      arbitrary: fc.nat(Math.max(0, n - 1)).map((k) =>
        frame({
          lines: [cl(k)],
          body,
          incomplete: false,
          surplus: true,
          note: `length ${n - k} B too small`,
        }),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.constant(
        frame({
          lines: [cl(maxBodyBytes + 1)],
          body,
          incomplete: true,
          note: "length over the edge's limit",
        }),
      ),
    },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom<(string | number)[]>(
          [n, n + 1],
          [n, n],
          ["abc"],
          [-1],
          [`+${n}`],
          ["1e3"],
          [` ${n} `],
          ["0x10"],
          ["99999999999999999999"],
          [""],
        )
        .map((vals) =>
          frame({
            lines: vals.map(cl),
            body,
            incomplete: false,
            surplus: true,
            note: `Content-Length ${vals.join(" / ")}`,
          }),
        ),
    },
    {
      weight: 2,
      arbitrary: fc.constant(
        frame({
          lines: ["Transfer-Encoding: chunked"],
          body: chunked(body, true),
          incomplete: false,
          note: "chunked",
        }),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.constant(
        frame({
          lines: ["Transfer-Encoding: chunked"],
          body: chunked(body, false),
          incomplete: true,
          note: "chunked, unterminated",
        }),
      ),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom("zz", "-1", "ffffffffffffffffffff", "1;ext=\u0000").map((size) =>
        frame({
          lines: ["Transfer-Encoding: chunked"],
          body: latin1(`${size}\r\nab\r\n0\r\n\r\n`),
          incomplete: false,
          note: `chunk size ${size}`,
        }),
      ),
    },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom<string[]>(
          ["Transfer-Encoding: chunked", cl(3)],
          ["Transfer-Encoding: gzip, chunked"],
          ["Transfer-Encoding: identity"],
          ["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"],
        )
        .map((lines) =>
          frame({ lines, body: chunked(body, true), incomplete: false, note: lines.join(" + ") }),
        ),
    },
    {
      weight: 1,
      arbitrary: fc.constant(
        frame({ lines: [], body, incomplete: false, surplus: true, note: "body with no framing" }),
      ),
    },
  );
}
