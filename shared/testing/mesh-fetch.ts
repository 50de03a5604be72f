/**
 * Calls a service's `http` endpoint over NATS the way the edge does and returns
 * a web `Response`, so service tests need no edge. `user` plays the caller the
 * edge would have verified.
 *
 * @example
 * const res = await meshFetch(nc, "runs", "/api/runs/runs", { user: "alice" });
 * expect(res.status).toBe(200);
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { MeshError } from "../errors/index.ts";
import { httpSubject, MeshHeader, natsToResponseInit, requestToNatsHeaders } from "../protocol/index.ts";

export type MeshFetchInit = {
  method?: string;
  body?: string | Uint8Array;
  /** JSON body (sets content-type). */
  json?: unknown;
  headers?: Record<string, string>;
  user?: string;
  /** The caller's address as the edge would send it (`Mesh-Client-Address`). */
  clientAddress?: string;
  timeoutMs?: number;
  /** `Mesh-Deadline` as ms from now, when the service may work longer than this caller listens (default `timeoutMs`). */
  deadlineMs?: number;
  /** Another subject than the service's shared `http` one, e.g. one instance's (`svc.runs.http.<id>`). */
  subject?: string;
};

export async function meshFetch(
  nc: NatsConnection,
  service: string,
  path: string,
  init: MeshFetchInit = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  let body: string | Uint8Array = init.body ?? "";
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  const timeout = init.timeoutMs ?? 5000;
  const h = requestToNatsHeaders(init.method ?? "GET", path, headers, {
    requestId: crypto.randomUUID(),
    deadline: Date.now() + (init.deadlineMs ?? timeout),
    traceparent: `00-${hex(16)}-${hex(8)}-01`,
    user: init.user,
  });
  if (init.clientAddress) h.set(MeshHeader.ClientAddress, init.clientAddress);
  const reply = await nc.request(init.subject ?? httpSubject(service), body, { headers: h, timeout });
  const error = MeshError.fromServiceReply(reply.headers, reply.data);
  if (error) return error.toResponse();
  const { status, headers: out } = natsToResponseInit(reply.headers);
  const payload = status === 204 || status === 304 ? null : (reply.data as Uint8Array<ArrayBuffer>);
  return new Response(payload, { status, headers: out });
}

function hex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}
