/**
 * The Runnerly wire protocol: names and pure conversions shared by the edge and
 * every service. Web standards only (no Bun or Node APIs) so the edge can run on
 * Deno and workerd. docs/protocol.md is the normative description of this file.
 */
import type { MsgHdrs } from "@nats-io/nats-core";
import { forEachHeader, MeshHeaders } from "./headers.ts";

export { forEachHeader, headersOf, MeshHeaders, rawHeaderBlock } from "./headers.ts";

/** Headers the edge sets on an HTTP request carried over NATS. */
export const HttpHeader = {
  Method: "Http-Method",
  Path: "Http-Path",
  Status: "Http-Status",
} as const;

/** Headers that carry mesh context between the edge, services and RPC calls. */
export const MeshHeader = {
  RequestId: "Mesh-Request-Id",
  Deadline: "Mesh-Deadline",
  User: "Mesh-User",
  /**
   * The caller's network address as the edge resolved it (the peer, or the
   * `X-Forwarded-For` entry of a trusted proxy). Clients' own forwarding
   * headers never reach a service; this one does.
   */
  ClientAddress: "Mesh-Client-Address",
  Traceparent: "traceparent",
  Tracestate: "tracestate",
  /**
   * A streamed reply (docs/protocol.md, "Streamed replies"): `1` on a request
   * whose caller takes a stream; `open`, `data` or `end` on each reply message.
   */
  Stream: "Mesh-Stream",
  /** The place of a `data` or `end` message in its stream: 1, 2, 3… */
  StreamSeq: "Mesh-Stream-Seq",
} as const;

/** Values of `Mesh-Stream`. */
export const MeshStream = {
  /** On a request: the caller takes a streamed reply. */
  Accepted: "1",
  /** The first reply: `Http-Status` and the response headers, maybe the first bytes. */
  Open: "open",
  /** The next bytes of the body. */
  Data: "data",
  /** The body is complete; no message follows. */
  End: "end",
} as const;

/** The most body bytes one message of a streamed reply carries (well under nats-server's 1 MiB max_payload). */
export const STREAM_CHUNK_BYTES = 64 * 1024;
/** A service sends a message of an open stream at least this often (an empty `data` when it has nothing). */
export const STREAM_HEARTBEAT_MS = 10_000;

/**
 * The reply-subject prefix of a streamed request to `service`, under the
 * caller's inbox prefix: `_INBOX.edge.stream.runs`. nats-server lets a
 * service answer a request once (`allow_responses`); the later messages of a
 * stream go to the same reply subject, so the service's NATS user may
 * publish under this prefix, and only for streams addressed to it.
 *
 * @example
 * streamInboxPrefix("_INBOX.edge", "svc.runs.http"); // "_INBOX.edge.stream.runs"
 */
export function streamInboxPrefix(inboxPrefix: string, subject: string): string {
  const service = subject.startsWith("svc.") ? subject.split(".")[1] : undefined;
  return service ? `${inboxPrefix}.stream.${service}` : inboxPrefix;
}

/** True for a response the mesh may stream: `text/event-stream` (server-sent events). */
export function isEventStream(contentType: string | null | undefined): boolean {
  return contentType?.split(";")[0]?.trim().toLowerCase() === "text/event-stream";
}

/** ADR-32 error headers (set by @nats-io/services' respondError). */
export const ServiceErrorHeader = {
  Code: "Nats-Service-Error-Code",
  Description: "Nats-Service-Error",
} as const;

/** The ADR-32 endpoint name of a service's HTTP surface. */
export const HTTP_ENDPOINT = "http";
/** Service metadata key holding the path prefix the edge routes to the service. */
export const HTTP_PREFIX_METADATA = "http.prefix";
/**
 * Service metadata key listing the routes the edge lets through without a
 * verified caller: comma-separated `METHOD /path` with the full path; a `*`
 * segment matches any one segment (`GET /api/accounts/users/*`).
 */
export const HTTP_PUBLIC_METADATA = "http.public";

/** Parses `http.public` metadata into `[method, path-pattern]` pairs. */
export function parsePublicRoutes(value: string | undefined): { method: string; pattern: string[] }[] {
  if (!value) return [];
  return value
    .split(",")
    .map((entry) => entry.trim().split(/\s+/))
    .filter((parts): parts is [string, string] => parts.length === 2 && (parts[1] ?? "").startsWith("/"))
    .map(([method, path]) => ({ method: method.toUpperCase(), pattern: path.split("/").slice(1) }));
}

/** True when `method path` is one of the public routes (`*` matches one segment; `HEAD` counts as `GET`). */
export function isPublicRoute(
  routes: { method: string; pattern: string[] }[],
  method: string,
  path: string,
): boolean {
  if (routes.length === 0) return false;
  const m = method.toUpperCase() === "HEAD" ? "GET" : method.toUpperCase();
  const query = path.indexOf("?");
  const segments = (query < 0 ? path : path.slice(0, query)).split("/");
  // Asked of every routed request: plain loops (segments[0] is the empty string before the first slash).
  for (const r of routes) {
    if ((r.method !== m && r.method !== "*") || r.pattern.length !== segments.length - 1) continue;
    let same = true;
    for (let i = 0; i < r.pattern.length && same; i++)
      same = r.pattern[i] === "*" || r.pattern[i] === segments[i + 1];
    if (same) return true;
  }
  return false;
}

/**
 * The announce subjects, as one subscription: a service announces that an
 * instance started or stopped on `mesh.announce.<service>` (`announceSubject`),
 * the only one its NATS user may publish, and the edge listens here. The bare
 * `mesh.announce` is not read: on it any service could speak for another.
 */
export const ANNOUNCE_SUBJECT = "mesh.announce.*";
/** Subject where a service announces its own instances: `mesh.announce.runs`. */
export const announceSubject = (service: string): string => `mesh.announce.${service}`;
/** The service an announce subject speaks for (`mesh.announce.runs` → `runs`), or null for any other subject. */
export function announcedService(subject: string): string | null {
  const [mesh, announce, name, ...rest] = subject.split(".");
  return mesh === "mesh" && announce === "announce" && name && rest.length === 0 ? name : null;
}

/** Conventional subject of a service's `http` endpoint. */
export const httpSubject = (service: string): string => `svc.${service}.http`;
/**
 * The ADR-32 endpoint name of an instance's own HTTP surface: the same
 * handler as `http`, on `svc.<name>.http.<instance-id>`, so that the edge can
 * choose the instance of each try (edge/proxy/balance/).
 */
export const HTTP_INSTANCE_ENDPOINT = "http-instance";
/** Subject of one instance's HTTP surface: `svc.runs.http.<instance-id>`. */
export const instanceSubject = (service: string, id: string): string => `svc.${service}.http.${id}`;
/** Conventional subject of a service's RPC method. */
export const rpcSubject = (service: string, method: string): string => `svc.${service}.rpc.${method}`;

/** Body of a `mesh.announce.<service>` message; `name` must be the subject's service. */
export type Announcement = {
  event: "started" | "stopped";
  name: string;
  id: string;
  version: string;
};

/** Reads an announcement body, or null when it is not a valid announcement. */
export function parseAnnouncement(data: Uint8Array): Announcement | null {
  try {
    const a = JSON.parse(new TextDecoder().decode(data)) as Partial<Announcement> | null;
    if (!a || (a.event !== "started" && a.event !== "stopped")) return null;
    if (typeof a.name !== "string" || typeof a.id !== "string" || typeof a.version !== "string") return null;
    return { event: a.event, name: a.name, id: a.id, version: a.version };
  } catch {
    return null;
  }
}

/** True for header names in the families only the mesh may set (`Http-*`, `Mesh-*`, `Nats-*`). */
export function isReservedHeader(name: string): boolean {
  // Asked of every header of every request: three comparisons, no closure.
  const lower = name.toLowerCase();
  return lower.startsWith("http-") || lower.startsWith("mesh-") || lower.startsWith("nats-");
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) and others that describe one TCP connection, not the message. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
]);

/** True for headers that must not be forwarded across the NATS hop. */
export function isHopByHopHeader(name: string): boolean {
  return HOP_BY_HOP.has(name.toLowerCase());
}

/**
 * Headers naming the client's address, host or scheme as some proxy saw it.
 * A client can write any of them, so none is forwarded: the edge decides who
 * the client is and says so in `Mesh-Client-Address`.
 */
const FORWARDING = new Set([
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-forwarded-port",
  "x-real-ip",
]);

/** True for the forwarding headers (`Forwarded`, `X-Forwarded-For`, …) the edge never passes on. */
export function isForwardingHeader(name: string): boolean {
  return FORWARDING.has(name.toLowerCase());
}

/** Headers the edge adds to every forwarded request. */
export type MeshContext = {
  requestId: string;
  deadline: number;
  traceparent: string;
  tracestate?: string | undefined;
  user?: string | undefined;
  /** The client's address as the edge resolved it; none when the runtime gave no peer address. */
  clientAddress?: string | null | undefined;
};

/**
 * Builds the NATS headers for an HTTP request: method, path, the client's
 * headers minus hop-by-hop, reserved and forwarding ones, then the mesh context.
 *
 * @example
 * const h = requestToNatsHeaders("GET", "/api/runs/runs?limit=5", req.headers, ctx);
 * await nc.request(httpSubject("runs"), body, { headers: h, timeout: 1000 });
 */
export function requestToNatsHeaders(
  method: string,
  pathWithQuery: string,
  clientHeaders: Headers,
  ctx: MeshContext,
): MeshHeaders {
  const h = new MeshHeaders();
  // The method comes from the runtime's HTTP parser (a token); the path is checked like any value.
  h.appendTrusted(HttpHeader.Method, method);
  h.append(HttpHeader.Path, pathWithQuery);
  // Headers the client lists in `Connection` are hop-by-hop too (RFC 9110 §7.6.1).
  const connection = clientHeaders.get("connection");
  const perHop = connection ? new Set(connection.split(",").map((t) => t.trim().toLowerCase())) : null;
  // Each name and value is checked as nats-server would read it (append refuses CR/LF and bad names).
  for (const [name, value] of clientHeaders) {
    if (
      isReservedHeader(name) ||
      isHopByHopHeader(name) ||
      isTraceHeader(name) ||
      isForwardingHeader(name) ||
      perHop?.has(name)
    )
      continue;
    h.append(name, value);
  }
  h.append(MeshHeader.RequestId, ctx.requestId);
  h.appendTrusted(MeshHeader.Deadline, String(ctx.deadline));
  h.append(MeshHeader.Traceparent, ctx.traceparent);
  if (ctx.tracestate) h.append(MeshHeader.Tracestate, ctx.tracestate);
  if (ctx.user) h.append(MeshHeader.User, ctx.user);
  if (ctx.clientAddress) h.append(MeshHeader.ClientAddress, ctx.clientAddress);
  return h;
}

function isTraceHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === "traceparent" || lower === "tracestate";
}

/**
 * Rebuilds a web `Request` on the service side from a NATS message of the `http`
 * endpoint. Returns null when the message lacks the protocol headers.
 * `origin` is prepended as a string: the Request parses its URL once.
 */
export function natsToRequest(hdrs: MsgHdrs | undefined, body: Uint8Array, origin: string): Request | null {
  if (!hdrs) return null;
  const method = hdrs.get(HttpHeader.Method).toUpperCase();
  const path = hdrs.get(HttpHeader.Path);
  if (!method || !path.startsWith("/")) return null;
  const headers = new Headers();
  forEachHeader(hdrs, (value, name) => {
    const lower = name.toLowerCase();
    if (lower.startsWith("http-") || lower.startsWith("nats-") || isHopByHopHeader(lower)) return;
    headers.append(name, value);
  });
  const init: RequestInit = { method, headers };
  if (method !== "GET" && method !== "HEAD" && body.length > 0) init.body = body as Uint8Array<ArrayBuffer>;
  return new Request(origin + path, init);
}

/** Converts a service's `Response` into NATS reply headers (`Http-Status` + response headers). */
export function responseToNatsHeaders(res: Response): MeshHeaders {
  const h = new MeshHeaders();
  h.appendTrusted(HttpHeader.Status, String(res.status));
  for (const [name, value] of res.headers) {
    if (isHopByHopHeader(name) || isReservedHeader(name)) continue;
    h.append(name, value);
  }
  return h;
}

/** Reads `Http-Status` and the response headers from a NATS reply. */
export function natsToResponseInit(hdrs: MsgHdrs | undefined): { status: number; headers: Headers } {
  const headers = new Headers();
  let status = 200;
  if (hdrs) {
    const raw = Number(hdrs.get(HttpHeader.Status));
    if (Number.isInteger(raw) && raw >= 200 && raw <= 599) status = raw;
    forEachHeader(hdrs, (value, name) => {
      if (!isReservedHeader(name) && !isHopByHopHeader(name)) headers.append(name, value);
    });
  }
  return { status, headers };
}
export * from "./levels.ts";
export * from "./sessions.ts";
