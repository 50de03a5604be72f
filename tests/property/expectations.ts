/**
 * What every answer to a hostile request must satisfy: no 5xx, and every
 * error a problem+json body (RFC 9457) whose `status` matches the response
 * and that has a `title`. Returns what is wrong, so a property can fail with
 * all of it at once.
 */

/** A response as the checks see it (from fetch or parsed off a raw socket). */
export type Answer = { status: number; contentType: string | null; body: string; method: string };

/**
 * The ways `answer` breaks the contract; empty when it keeps it.
 *
 * @example
 * expect(violations({ status: 400, contentType: "application/problem+json", body: '{"status":400,"title":"Bad Request"}', method: "POST" })).toEqual([]);
 */
export function violations(answer: Answer): string[] {
  const out: string[] = [];
  if (answer.status >= 500) out.push(`answered ${answer.status} (a 5xx)`);
  if (answer.status < 400) return out;
  if (!answer.contentType?.startsWith("application/problem+json")) {
    out.push(
      `a ${answer.status} with content-type ${answer.contentType ?? "(none)"}, not application/problem+json`,
    );
    return out;
  }
  if (answer.method === "HEAD") return out; // no body to read
  let problem: unknown;
  try {
    problem = JSON.parse(answer.body);
  } catch {
    out.push(`a ${answer.status} problem whose body is not JSON: ${answer.body.slice(0, 200)}`);
    return out;
  }
  const p = problem as { status?: unknown; title?: unknown };
  if (p.status !== answer.status)
    out.push(`problem.status ${String(p.status)} ≠ response status ${answer.status}`);
  if (typeof p.title !== "string" || p.title === "") out.push("problem has no title");
  return out;
}

/** What a raw exchange must satisfy, given what the parser-level answers may be. */
export type RawAnswer = {
  responses: { status: number; headers: Map<string, string>; body: string }[];
  hung: boolean;
  /** The request line's protocol version (`HTTP/1.1`). */
  version: string;
  /** Bytes followed the announced body, which the parser then read as a request line. */
  surplus: boolean;
};

// Bun's own HTTP parser refuses malformed framing, oversized heads and bodies before any
// app code runs, with a bare status line and `Connection: close`: no body to make a problem of.
const PARSER_STATUSES = new Set([400, 408, 413, 414, 431]);

/** True for the bare answer of the runtime's HTTP parser: no content type, no body, connection closed. */
const isParserAnswer = (r: RawAnswer["responses"][number]) =>
  !r.headers.has("content-type") && r.body === "" && r.headers.get("connection") === "close";

/**
 * The ways a raw exchange breaks the contract: a hang, a 5xx, or an answer
 * of the app that is not a problem. The parser's bare 4xx answers are
 * allowed, and so is its 505 to a request line that is not HTTP/1.x: ours
 * when we sent another version (RFC 9110 §15.6.6), or the surplus bytes of a
 * lying body read as a next request line (Bun answers 505 to any request
 * line without an HTTP/1.x version, where 400 would be apter).
 */
export function rawViolations(x: RawAnswer): string[] {
  if (x.hung) return ["no answer, and the connection still open after we ended our side: a hang"];
  const out: string[] = [];
  for (const [i, r] of x.responses.entries()) {
    if (isParserAnswer(r)) {
      // The surplus may be refused before the first request is answered: Bun then closes without that answer.
      const notHttp1 = x.surplus || (i === 0 && !/^HTTP\/1\.[01]$/.test(x.version));
      if (!PARSER_STATUSES.has(r.status) && !(r.status === 505 && notHttp1)) {
        out.push(`the HTTP parser answered ${r.status}`);
      }
      continue;
    }
    const answer = {
      status: r.status,
      contentType: r.headers.get("content-type") ?? null,
      body: r.body,
      method: "RAW",
    };
    out.push(...violations(answer));
  }
  return out;
}
