/**
 * Size limits at the door: the request target (414), the header block (431)
 * and the body (413), checked before a request is routed, so an oversized
 * request never reaches a service. The body is counted as it is read, not
 * taken from `Content-Length`: a length that understates the body, or a
 * chunked body with none, is cut off at the limit. It must also arrive in
 * time (408), and a client that leaves while sending it is told apart from a
 * failing service (`ClientFault`). Web standards only.
 */
import { MeshError } from "@runnerly/kit/web";
import type { MiddlewareHandler } from "hono";
import { EDGE_DEFAULTS } from "../../defaults.ts";

export type Limits = {
  /** Largest request body, in bytes. */
  maxBodyBytes: number;
  /** Largest total of header names and values, in bytes. */
  maxHeaderBytes: number;
  /** Longest request target (path and query), in bytes. */
  maxUrlBytes: number;
  /** Longest time the whole request body may take to arrive, in ms. */
  bodyTimeoutMs: number;
};

/**
 * A request that failed by its client's doing, not its service's: its body
 * did not arrive in time (`body-timeout`, a 408 the client is sent), or the
 * connection ended before it was answered (`closed`, 499 as nginx counts it:
 * the client left, or the runtime refused the body's framing with its own
 * 400). Such requests are measured under their status but kept out of the
 * service's levels (`/_/slo`, the dashboard).
 */
export class ClientFault extends MeshError {
  constructor(
    readonly reason: "body-timeout" | "closed",
    detail: string,
  ) {
    super(reason === "body-timeout" ? 408 : CLIENT_CLOSED, {
      title: reason === "body-timeout" ? "Request Timeout" : "Client Closed Request",
      detail,
      // What is left of the body may still come: the connection cannot carry another request.
      headers: { connection: "close" },
    });
    this.name = "ClientFault";
  }
}

/** nginx's status for a request whose client closed the connection before the answer. */
const CLIENT_CLOSED = 499;

/**
 * Middleware answering 414, 431 or 413 (on a declared `Content-Length`) before
 * anything else runs. The body itself is checked by `readBody`.
 *
 * @example
 * app.use(limits({ maxBodyBytes: 1 << 20, maxHeaderBytes: 16_384, maxUrlBytes: 8192 }));
 */
export const limits = (l: Limits): MiddlewareHandler => {
  return async function limitsMiddleware(c, next) {
    const url = c.req.url;
    // Bun hands over a relative URL when Host is missing (HTTP/1.0) or is not a host.
    if (!URL.canParse(url)) {
      return new MeshError(400, { detail: "The request needs a valid Host header." }).toResponse();
    }
    // The target starts at the first "/" after the scheme's "//".
    const target = url.length - url.indexOf("/", url.indexOf("//") + 2);
    if (target > l.maxUrlBytes) {
      const detail = `The request target is ${target} bytes; the limit is ${l.maxUrlBytes}.`;
      return new MeshError(414, { detail }).toResponse(c.req.path);
    }
    let headerBytes = 0;
    for (const [name, value] of c.req.raw.headers) headerBytes += name.length + value.length;
    if (headerBytes > l.maxHeaderBytes) {
      const detail = `The request headers are ${headerBytes} bytes; the limit is ${l.maxHeaderBytes}.`;
      return new MeshError(431, { detail }).toResponse(c.req.path);
    }
    const declared = Number(c.req.header("content-length") ?? 0);
    if (declared > l.maxBodyBytes) return tooLarge(l.maxBodyBytes).toResponse(c.req.path);
    await next();
  };
};

/**
 * Reads a request body into memory. A body of unknown length (chunked) is
 * counted as it arrives: past `maxBytes` it stops reading (never holding more
 * than the limit plus one chunk) and throws a 413 MeshError. A body that has
 * not all arrived after `timeoutMs` throws a `ClientFault` (408), and one
 * whose connection ends first a `ClientFault` (499). An absent body is empty.
 *
 * @example
 * const body = await readBody(req, 1 << 20, 10_000); // throws MeshError(413), ClientFault(408 or 499)
 */
export async function readBody(
  req: Request,
  maxBytes: number,
  timeoutMs: number = EDGE_DEFAULTS.limits.bodyTimeoutMs,
): Promise<Uint8Array> {
  if (!req.body) return new Uint8Array(0);
  const reading = readWithin(req, maxBytes);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reading.stop();
      reject(new ClientFault("body-timeout", `The request body did not arrive within ${timeoutMs} ms.`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([reading.body, late]);
  } catch (err) {
    if (err instanceof MeshError) throw err;
    // The runtime's read failed: the connection ended (Bun: AbortError) before the body was whole.
    throw new ClientFault("closed", "The connection ended before the request body arrived.");
  } finally {
    clearTimeout(timer);
  }
}

/** The body being read, and a way to stop reading it (a chunked body's stream is cancelled). */
function readWithin(req: Request, maxBytes: number): { body: Promise<Uint8Array>; stop(): void } {
  // A declared length within the limit bounds the body (the server reads no more than it says), so
  // the body is read in one call: the stream reader below cost about a sixth of the edge's CPU on a POST.
  // Stopping it is left to the runtime, which drops the rest with the connection after the 408.
  const declared = req.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) <= maxBytes) {
    const body = req.arrayBuffer().then((buffer) => {
      if (buffer.byteLength > maxBytes) throw tooLarge(maxBytes);
      return new Uint8Array(buffer);
    });
    return { body, stop() {} };
  }
  const reader = (req.body as ReadableStream<Uint8Array>).getReader();
  return { body: readChunks(reader, maxBytes), stop: () => void reader.cancel("too slow").catch(() => {}) };
}

async function readChunks(reader: ReadableStreamDefaultReader<Uint8Array>, maxBytes: number) {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    total += r.value.byteLength;
    if (total > maxBytes) {
      await reader.cancel("request body too large").catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(r.value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

function tooLarge(max: number): MeshError {
  return new MeshError(413, { detail: `The request body is larger than ${max} bytes.` });
}
