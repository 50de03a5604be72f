/**
 * Helpers for the edge's tests: bounded waiting, a log recorder, real NATS
 * connections, and plain ADR-32 services registered with @nats-io/services
 * (no kit code, as a team in another language would register them).
 */
import { Empty, type NatsConnection, headers as natsHeaders } from "@nats-io/nats-core";
import { type Service, type ServiceMsg, Svcm } from "@nats-io/services";
import { connect as connectNode } from "@nats-io/transport-node";
import { waitFor } from "@runnerly/kit/testing";
import { type Announcement, announceSubject } from "@runnerly/kit/web";
import { createEdge, type Edge, type EdgeOptions } from "./app.ts";
import { isNoResponders } from "./proxy/nats-errors.ts";

// The kit's bounded wait and log recorder, here too so the edge's tests take every helper from one place.
export { type LogEntry, recordingLogger } from "@runnerly/kit/testing";
export { waitFor };

/** A plain NATS connection to a test server; fails fast instead of reconnecting for ever. */
export function connect(url: string, name = "test"): Promise<NatsConnection> {
  return connectNode({ servers: url, name, maxReconnectAttempts: 0 });
}

/** Creates an edge and waits for its first sweep. */
export async function startEdge(options: EdgeOptions): Promise<Edge> {
  const edge = createEdge(options);
  await edge.ready;
  return edge;
}

export type HttpServiceOptions = {
  name: string;
  prefix: string;
  version?: string;
  /** Endpoint subject (default `svc.<name>.http`). */
  subject?: string;
  handler: (msg: ServiceMsg) => void | Promise<void>;
};

/** Registers an ADR-32 service with an `http` endpoint and `http.prefix` metadata, as any micro library would. */
export async function addHttpService(nc: NatsConnection, options: HttpServiceOptions): Promise<Service> {
  const service = await new Svcm(nc).add({
    name: options.name,
    version: options.version ?? "1.0.0",
    metadata: { "http.prefix": options.prefix },
  });
  service.addEndpoint("http", {
    subject: options.subject ?? `svc.${options.name}.http`,
    handler: (err, msg) => {
      if (!err) void options.handler(msg);
    },
  });
  // Make sure the server has the subscriptions before the test goes on.
  await nc.flush();
  return service;
}

/** Replies like an HTTP handler would: `Http-Status`, a content type and a text body. */
export function respondText(msg: ServiceMsg, status: number, text: string): void {
  const h = natsHeaders();
  h.set("Http-Status", String(status));
  h.set("content-type", "text/plain; charset=utf-8");
  msg.respond(new TextEncoder().encode(text), { headers: h });
}

/** Publishes on `mesh.announce.<name>` as a kit service does when it starts or stops. */
export async function announce(
  nc: NatsConnection,
  event: Announcement["event"],
  service: Service,
): Promise<void> {
  const info = service.info();
  const body: Announcement = { event, name: info.name, id: info.id, version: info.version };
  nc.publish(announceSubject(info.name), JSON.stringify(body));
  await nc.flush();
}

/**
 * Waits until the server itself has no subscriber left for a service (its
 * `$SRV.PING.<name>` gets "no responders"). A client's `close()` resolves
 * before the server has processed the closed socket; a request sent in that
 * gap goes to the dead connection and can only time out.
 */
export async function waitUntilServerForgets(nc: NatsConnection, name: string): Promise<void> {
  await waitFor(
    async () => {
      try {
        await nc.request(`$SRV.PING.${name}`, Empty, { timeout: 200 });
        return false;
      } catch (err) {
        return isNoResponders(err);
      }
    },
    { timeoutMs: 10_000, what: `the server to drop ${name}'s subscriptions` },
  );
}

/** Collects cleanups so each test releases what it started, in reverse order, even when it fails. */
export function cleanups(): { add(fn: () => unknown): void; run(): Promise<void> } {
  const fns: (() => unknown)[] = [];
  return {
    add: (fn) => void fns.push(fn),
    async run() {
      while (fns.length > 0) {
        try {
          await fns.pop()?.();
        } catch {
          // already closed or stopped
        }
      }
    },
  };
}
