/**
 * The mesh every runtime's edge is tested against: one real nats-server with
 * a websocket listener, and "foreign" services registered with nothing but
 * @nats-io/services (ADR-32) over TCP, as a team in another language would.
 * Services record what they receive, keyed by the client's `x-case-id`
 * header, so a case can check exactly what crossed the edge.
 */
import { type NatsConnection, headers as natsHeaders } from "@nats-io/nats-core";
import { type Service, type ServiceMsg, Svcm } from "@nats-io/services";
import { NatsServer } from "@runnerly/kit/testing";
import { connect } from "../test-utils.ts";

/** What a service got for one request: subject, headers (exact names) and raw body. */
export type Received = { subject: string; headers: Record<string, string[]>; body: Uint8Array };

export type Mesh = {
  nats: NatsServer;
  /** The services' own connection (TCP). */
  nc: NatsConnection;
  /** The ADR-32 instance id of the `foreign` service. */
  foreignId: string;
  /** What a service received for the request that carried `x-case-id: <caseId>`. */
  received(caseId: string): Received | undefined;
  /** Registers another ADR-32 service under `prefix` that answers `200 <name> <path>` (not announced). */
  addService(name: string, prefix: string): Promise<Service>;
  close(): Promise<void>;
};

/** Bytes no text codec survives: every byte value, then an invalid UTF-8 sequence and a NUL run. */
export const ALL_BYTES = new Uint8Array([...Array.from({ length: 256 }, (_, i) => i), 0xc3, 0x28, 0, 0, 0]);

/**
 * Starts nats-server (TCP + websocket) and registers `foreign` (/api/foreign),
 * `alpha` (/api/a) and `alphabeta` (/api/a/b).
 *
 * @example
 * const mesh = await startMesh();
 * afterAll(() => mesh.close());
 */
export async function startMesh(): Promise<Mesh> {
  const nats = await NatsServer.start({ jetstream: false, websocket: true });
  const nc = await connect(nats.url, "portability-services");
  const byCase = new Map<string, Received>();
  const services: Service[] = [];

  function record(msg: ServiceMsg): void {
    const headers: Record<string, string[]> = {};
    for (const [name, values] of msg.headers ?? []) headers[name] = values;
    const caseId = headers["x-case-id"]?.[0];
    if (caseId) byCase.set(caseId, { subject: msg.subject, headers, body: msg.data.slice() });
  }

  async function add(name: string, prefix: string, handler: (msg: ServiceMsg) => void, version = "1.0.0") {
    const service = await new Svcm(nc).add({ name, version, metadata: { "http.prefix": prefix } });
    service.addEndpoint("http", {
      subject: `svc.${name}.http`,
      handler: (err, msg) => {
        if (err) return;
        record(msg);
        handler(msg);
      },
    });
    await nc.flush();
    services.push(service);
    return service;
  }

  const foreign = await add("foreign", "/api/foreign", answerForeign, "2.3.4");
  // alpha and alphabeta claim prefixes other than /api/<name>: the edges grant them (PREFIX_GRANTS).
  for (const [name, prefix] of [
    ["alpha", "/api/a"],
    ["alphabeta", "/api/a/b"],
    ["limited", "/api/limited"],
  ] as const) {
    await add(name, prefix, (msg) => respond(msg, 200, `${name} ${msg.headers?.get("Http-Path")}`));
  }

  return {
    nats,
    nc,
    foreignId: foreign.info().id,
    received: (caseId) => byCase.get(caseId),
    addService: (name, prefix) =>
      add(name, prefix, (msg) => respond(msg, 200, `${name} ${msg.headers?.get("Http-Path")}`)),
    async close() {
      await Promise.allSettled(services.map((s) => s.stop()));
      await nc.close();
      await nats.stop();
    },
  };
}

/** `foreign`'s http endpoint: fixed bytes for GET /bytes, an ADR-32 error for /conflict, else an echo. */
function answerForeign(msg: ServiceMsg): void {
  const method = msg.headers?.get("Http-Method");
  const path = msg.headers?.get("Http-Path") ?? "";
  if (path.startsWith("/api/foreign/conflict")) {
    const problem = {
      type: "https://foreign.example/problems/duplicate",
      title: "Conflict",
      status: 409,
      runId: 7,
    };
    msg.respondError(409, "conflict", new TextEncoder().encode(JSON.stringify(problem)));
  } else if (method === "GET" && path.startsWith("/api/foreign/bytes")) {
    respond(msg, 200, ALL_BYTES);
  } else {
    respond(msg, 200, msg.data);
  }
}

function respond(msg: ServiceMsg, status: number, body: string | Uint8Array): void {
  const h = natsHeaders();
  h.set("Http-Status", String(status));
  h.set("content-type", typeof body === "string" ? "text/plain; charset=utf-8" : "application/octet-stream");
  msg.respond(body, { headers: h });
}

/** What the edges under test grant the two services whose prefixes are not `/api/<name>` (EDGE_PREFIX_GRANTS). */
export const PREFIX_GRANTS = "alpha=/api/a,alphabeta=/api/a/b";

/** Two anonymous requests a minute per client address under /api/limited (EDGE_RATE_LIMITS). */
export const LIMITED_POLICY = "/api/limited=2/60s";
/** The header the workerd edge reads the client address from (EDGE_PEER_HEADER), as Cloudflare's front sets one. */
export const PEER_HEADER = "x-test-client-ip";
