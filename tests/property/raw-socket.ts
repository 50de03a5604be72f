/**
 * Raw HTTP/1.1 over a TCP socket (node:net), for what fetch will not send:
 * duplicated header lines, bytes that are not ASCII, request lines that are
 * not normalised, and bodies whose framing lies. Reads every response the
 * server writes, interim (1xx) ones skipped, until it closes or goes quiet.
 */
import { connect } from "node:net";

/** One parsed response (header names lower-cased). */
export type RawResponse = { status: number; headers: Map<string, string>; body: string };

/** Everything that came back, and how the exchange ended. */
export type RawExchange = {
  responses: RawResponse[];
  /** The server closed the connection. */
  closed: boolean;
  /** Nothing came back, and the connection stayed open, within the bound (even after our FIN). */
  hung: boolean;
  /** Nothing came back for a while, so we ended our side to show we would send nothing more. */
  nudged: boolean;
  /** Bytes received that were not a complete response (a truncated answer). */
  leftover: string;
};

export type RawOptions = {
  /** End our side right after writing (a client that lied and left). */
  halfClose: boolean;
  /** The whole exchange's bound; with no answer by a third of it, we end our side (a server may wait for bytes it was promised). */
  timeoutMs: number;
  /** After a complete response, how long to wait for another one (0: stop at the first). */
  quietMs: number;
};

/** Splits a byte stream (latin1 text) into complete responses; the rest is returned as leftover. */
export function parseResponses(text: string): { responses: RawResponse[]; leftover: string } {
  const responses: RawResponse[] = [];
  let rest = text;
  while (true) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) break;
    const [statusLine = "", ...lines] = rest.slice(0, end).split("\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
    if (!status) break;
    const headers = new Map(
      lines.map((l) => [l.slice(0, l.indexOf(":")).trim().toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
    );
    const framed = status < 200 ? { body: "", size: 0 } : readBody(rest.slice(end + 4), headers);
    if (!framed) break; // not all here yet
    rest = rest.slice(end + 4 + framed.size);
    if (status < 200) continue; // 100 Continue and friends
    const body = Buffer.from(framed.body, "latin1").toString("utf8");
    responses.push({ status, headers, body });
  }
  return { responses, leftover: rest };
}

/** A response body by Content-Length or chunked coding, or null while incomplete. */
function readBody(text: string, headers: Map<string, string>): { body: string; size: number } | null {
  if (!/chunked/i.test(headers.get("transfer-encoding") ?? "")) {
    const length = Number(headers.get("content-length") ?? 0);
    return text.length < length ? null : { body: text.slice(0, length), size: length };
  }
  let at = 0;
  let body = "";
  while (true) {
    const eol = text.indexOf("\r\n", at);
    if (eol < 0) return null;
    const size = Number.parseInt(text.slice(at, eol), 16);
    if (Number.isNaN(size) || text.length < eol + 2 + size + 2) return null;
    body += text.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
    if (size === 0) return { body, size: at };
  }
}

/**
 * Writes `bytes` to 127.0.0.1:`port` and collects the answers.
 *
 * @example
 * const x = await exchange(port, utf8("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"), { halfClose: false, timeoutMs: 5000, quietMs: 0 });
 */
export function exchange(port: number, bytes: Uint8Array, options: RawOptions): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    let closed = false;
    let nudged = false;
    let quiet: ReturnType<typeof setTimeout> | undefined;
    const finish = () => {
      clearTimeout(bound);
      clearTimeout(nudge);
      clearTimeout(quiet);
      socket.destroy();
      const { responses, leftover } = parseResponses(text);
      resolve({ responses, closed, hung: !closed && responses.length === 0, nudged, leftover });
    };
    const bound = setTimeout(finish, options.timeoutMs);
    const nudge = setTimeout(() => {
      if (text.length || options.halfClose) return;
      nudged = true;
      socket.end();
    }, options.timeoutMs / 3);
    socket.on("data", (d) => {
      text += d.toString("latin1");
      clearTimeout(quiet);
      // Once an answer is complete, give the server a moment to write another (or close), then stop.
      if (parseResponses(text).responses.length) quiet = setTimeout(finish, options.quietMs);
    });
    socket.on("close", () => {
      closed = true;
      finish();
    });
    socket.on("error", () => {}); // the server may close while we still write: that is allowed
    socket.on("connect", () => {
      socket.write(bytes);
      if (options.halfClose) socket.end();
    });
  });
}
