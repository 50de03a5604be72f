/**
 * JSON request bodies must be UTF-8 (RFC 8259 §8.1). A body sent as JSON
 * (`application/json`, `application/*+json`) whose bytes are not valid UTF-8
 * is refused with a 400 naming the body, before any handler reads it; without
 * this, a lenient decoder would hand the handlers U+FFFD where the bad bytes
 * were, and they would store that.
 */
import type { MiddlewareHandler } from "hono";
import { MeshError } from "../errors/index.ts";

const JSON_TYPE = /^application\/(?:[^\s;/]+\+)?json\s*(?:;|$)/i;
// One decoder for every request: `decode` without `stream` starts afresh each call, after an error too.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** True for the media types of JSON bodies (`application/json`, `application/problem+json`…), any parameters. */
export function isJsonContentType(contentType: string | undefined | null): boolean {
  return contentType ? JSON_TYPE.test(contentType) : false;
}

/**
 * Middleware refusing a JSON body that is not valid UTF-8 (400 problem,
 * `body: not valid UTF-8`). Other bodies pass untouched. The body is read
 * once: Hono keeps the bytes and the decoded text, so the handler's
 * `c.req.json()` or `c.req.arrayBuffer()` reads neither the stream again nor
 * decodes twice.
 *
 * @example
 * app.use("*", strictJsonBody());
 */
export const strictJsonBody = (): MiddlewareHandler => {
  return async function strictJsonBody(c, next) {
    // A GET or HEAD has no body (the Request refuses one): nothing to read.
    const method = c.req.method;
    if (method === "GET" || method === "HEAD") return next();
    if (!c.req.raw.body || !isJsonContentType(c.req.header("content-type"))) return next();
    const bytes = await c.req.arrayBuffer();
    let text: string;
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      const message = "not valid UTF-8 (a JSON body must be UTF-8)";
      throw new MeshError(400, {
        detail: `body: ${message}`,
        type: "https://runnerly.dev/problems/bad-input",
        errors: [{ path: "body", message }],
      });
    }
    // What `c.req.json()` and `c.req.text()` read first. Hono keeps promises there (its type says
    // the value): without this, each `json()` would decode the kept bytes again through a new Response.
    (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(text);
    return next();
  };
};
