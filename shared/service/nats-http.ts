/**
 * Serves a service's Hono app over NATS: the `http` endpoint of the wire
 * protocol. The request is rebuilt from `Http-*` headers and the raw body, the
 * app answers as it would over HTTP, and the reply carries `Http-Status`.
 */
import type { ServiceMsg } from "@nats-io/services";
import { MeshError } from "../errors/index.ts";
import type { Logger } from "../log/logger.ts";
import { headersOf, MeshHeader, natsToRequest, responseToNatsHeaders } from "../protocol/index.ts";

type FetchApp = { fetch(request: Request): Response | Promise<Response> };

/**
 * Handles one `http` endpoint message. Never throws: every failure is replied
 * to as a problem so the caller is never left waiting.
 */
export async function serveHttpMessage(app: FetchApp, msg: ServiceMsg, origin: string, logger: Logger) {
  const headers = headersOf(msg);
  const request = natsToRequest(headers, msg.data, origin);
  if (!request) {
    replyProblem(msg, new MeshError(400, { detail: "Missing Http-Method or Http-Path header" }));
    return;
  }
  const deadline = Number(headers?.get(MeshHeader.Deadline));
  if (Number.isFinite(deadline) && deadline > 0 && deadline < Date.now()) {
    // Nobody is waiting for this answer any more; skip the work.
    replyProblem(msg, new MeshError(504, { detail: "The request's deadline passed before it was handled" }));
    return;
  }
  try {
    const response = await app.fetch(request);
    const body = new Uint8Array(await response.arrayBuffer());
    msg.respond(body, { headers: responseToNatsHeaders(response) });
  } catch (err) {
    logger.error({ err: String(err) }, "http endpoint failed");
    replyProblem(msg, new MeshError(500, { detail: "The service failed to handle the request." }));
  }
}

function replyProblem(msg: ServiceMsg, error: MeshError): void {
  const response = error.toResponse();
  const body = new TextEncoder().encode(JSON.stringify(error.toProblem()));
  msg.respond(body, { headers: responseToNatsHeaders(response) });
}
