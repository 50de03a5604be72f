/**
 * How the NATS ceiling carries an HTTP request's metadata, to price the
 * choice: `none` (bare request-reply), `headers` (NATS headers, as the wire
 * protocol does: method, path, request id, deadline, traceparent; a status and
 * content type back) or `json` (the same fields in a JSON envelope in the body).
 * Each side builds and reads the metadata per message, as the edge and a kit
 * service do.
 */
import { Empty, headers, type Msg, type MsgHdrs } from "@nats-io/nats-core";
import { HELLO } from "../payloads.ts";

export const META_MODES = ["none", "headers", "json"] as const;
export type MetaMode = (typeof META_MODES)[number];

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What the client sends for one request. */
export function requestFor(mode: MetaMode): { data: Uint8Array; headers?: MsgHdrs } {
  const requestId = crypto.randomUUID();
  const deadline = String(Date.now() + 10_000);
  const traceparent = `00-${crypto.randomUUID().replaceAll("-", "")}-00f067aa0ba902b7-01`;
  if (mode === "headers") {
    const h = headers();
    h.set("Http-Method", "GET");
    h.set("Http-Path", "/api/bench/hello");
    h.set("Mesh-Request-Id", requestId);
    h.set("Mesh-Deadline", deadline);
    h.set("traceparent", traceparent);
    return { data: Empty, headers: h };
  }
  if (mode === "json") {
    const envelope = { method: "GET", path: "/api/bench/hello", requestId, deadline, traceparent, body: "" };
    return { data: encoder.encode(JSON.stringify(envelope)) };
  }
  return { data: Empty };
}

/** Reads the reply's status as the edge would; false when it is not a 200. */
export function replyOk(mode: MetaMode, reply: Msg): boolean {
  if (mode === "headers") return reply.headers?.get("Http-Status") === "200";
  if (mode === "json") return (JSON.parse(decoder.decode(reply.data)) as { status: number }).status === 200;
  return reply.data.length > 0;
}

const HELLO_TEXT = JSON.stringify(HELLO);
const HELLO_BYTES = encoder.encode(HELLO_TEXT);

/** The responder's answer to `msg`: reads the request's method and path, builds the reply's metadata. */
export function answer(msg: Msg): { data: Uint8Array; headers?: MsgHdrs } {
  if (msg.headers) {
    if (!msg.headers.get("Http-Method") || !msg.headers.get("Http-Path"))
      throw new Error("no method or path");
    const h = headers();
    h.set("Http-Status", "200");
    h.set("content-type", "application/json");
    return { data: HELLO_BYTES, headers: h };
  }
  if (msg.data.length > 0) {
    const req = JSON.parse(decoder.decode(msg.data)) as { method?: string; path?: string };
    if (!req.method || !req.path) throw new Error("no method or path");
    const reply = { status: 200, headers: { "content-type": "application/json" }, body: HELLO_TEXT };
    return { data: encoder.encode(JSON.stringify(reply)) };
  }
  return { data: HELLO_BYTES };
}
