/**
 * Hostile primitives every generator draws from: strings that break naive
 * Unicode handling, numbers JSON cannot or should not carry, and path
 * segments that try to climb out of a route. They know nothing of OpenAPI.
 */
import fc from "fast-check";

/**
 * A piece of JSON text written verbatim into a document (`NaN`, `1e400`,
 * `-0`, a 40-digit integer): JSON.stringify would never emit these, which is
 * exactly why a server must survive them.
 */
export class RawJson {
  constructor(readonly text: string) {}
}

/** Code points and sequences that trip up string handling; most are valid JSON strings. */
const UNICODE_EDGES = [
  "\u0000", // NUL: C strings, SQLite text, log lines
  "\uD800", // lone high surrogate: not encodable as UTF-8
  "\uDFFF", // lone low surrogate
  "\uDBFF\uDFFF", // the last code point (U+10FFFF)
  "\u202E", // RIGHT-TO-LEFT OVERRIDE
  "\u200F", // RIGHT-TO-LEFT MARK
  "\u200B", // ZERO WIDTH SPACE
  "\u200D", // ZERO WIDTH JOINER
  "\uFEFF", // BOM / zero-width no-break space
  "\u0301\u0301\u0301", // combining acute accents with nothing to combine with
  "e\u0301", // decomposed é (NFC/NFKC change it)
  "\uFB03", // ﬃ ligature (NFKC expands it)
  "\u{1F3C3}\u200D\u2640\uFE0F", // woman running: a ZWJ emoji sequence
  "\u{1F1EB}\u{1F1F7}", // a flag: two regional indicators
  "\u2028\u2029", // line/paragraph separators (legal in JSON, not in old JS)
  "\r\n", // CRLF: header and log injection
  "\u0085", // NEL
  "\u00A0", // no-break space (trim() removes it)
  "\u3000", // ideographic space
  "İ", // Turkish dotted capital I: toLowerCase() makes it two code points
  "ß", // toUpperCase() makes it two letters
  "\u{E0001}", // language tag
  "%00", // an encoded NUL as text
  "'; DROP TABLE runs; --",
  '"><script>alert(1)</script>',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, meant literally
  "${7*7}{{7*7}}",
  "__proto__",
];

/** One Unicode edge case. */
export const unicodeEdge = (): fc.Arbitrary<string> => fc.constantFrom(...UNICODE_EDGES);

/**
 * Strings mixing ordinary text with Unicode edge cases, including full
 * UTF-16 (lone surrogates); short, so they fit any field's length limit.
 */
export const unicodeString = (maxLength = 40): fc.Arbitrary<string> =>
  fc
    .array(
      fc.oneof(unicodeEdge(), fc.string({ unit: "binary", maxLength: 4 }), fc.string({ maxLength: 6 })),
      {
        maxLength: 8,
      },
    )
    .map((parts) => parts.join("").slice(0, maxLength));

/**
 * A huge string: up to ~1 MiB of one repeated unit (ASCII, a 4-byte emoji,
 * a combining mark or a lone surrogate), well under the edge's 6 MiB body
 * limit. Built by repetition so generating it costs nothing.
 */
export const hugeString = (maxBytes = 1 << 20): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.constantFrom("a", "\u{1F3C3}", "\u0301", "\uD800", "é", "\u0000"),
      fc.integer({ min: 1, max: maxBytes }),
    )
    .map(([unit, bytes]) =>
      unit.repeat(Math.max(1, Math.floor(bytes / new TextEncoder().encode(unit).length))),
    );

/** Numbers at and past the edges of IEEE doubles and integers, as JSON text or as numbers. */
export const hostileNumber = (): fc.Arbitrary<number | RawJson> =>
  fc.oneof(
    fc.constantFrom(
      0,
      -0,
      1e308,
      -1e308,
      5e-324,
      Number.MAX_SAFE_INTEGER + 2,
      -(2 ** 63),
      2 ** 64,
      0.1 + 0.2,
    ),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc
      .constantFrom(
        "NaN",
        "Infinity",
        "-Infinity",
        "1e400", // parses to Infinity
        "-1e400",
        "1e-400", // parses to 0
        "-0",
        "123456789012345678901234567890123456789", // 39 digits: precision lost
        "0x10",
        "01",
        "1.",
        ".5",
        "+1",
        "1e",
        "9".repeat(400),
      )
      .map((text) => new RawJson(text)),
  );

/** Numbers written as JSON strings ("1e308", "NaN"): the wrong type that looks right. */
export const numberAsString = (): fc.Arbitrary<string> =>
  fc.constantFrom("1", "1e308", "-0", "NaN", "Infinity", "0x1F", " 42 ", "4\u0662", "١٢", "");

/**
 * Path-parameter values that try to escape their segment: dot segments,
 * encoded and double-encoded slashes and dots, backslashes, NUL, very long
 * ids (near and past the edge's 8 KiB URL limit). Returned already encoded
 * for a URL, since the point is to choose the encoding ourselves.
 */
export const traversalSegment = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(
      "..",
      "../..",
      "..%2f..%2faccounts%2fme",
      "%2e%2e%2f%2e%2e%2f_%2froutes",
      "%2e%2e",
      "%252e%252e%252f", // double-encoded
      "..%5c..%5c", // backslashes
      "%2F",
      "%00",
      "a%00b",
      "%zz",
      "%",
      "%e2%82", // truncated UTF-8
      "%c0%ae%c0%ae%c0%af", // overlong UTF-8 for ../
      "%ed%a0%80", // an encoded lone surrogate
      "..;/..;/",
      "%u002e%u002e",
      ";jsessionid=1",
      "x?y=1",
      "x#frag",
    ),
    fc.integer({ min: 200, max: 9000 }).map((n) => "i".repeat(n)),
    unicodeString(20).map((s) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, "\uFFFD"))),
  );
