/**
 * The edge's own health: `/healthz` (the process answers; its NATS connection
 * is not closed) and `/readyz` (it can route: connected to NATS now, and the
 * first discovery sweep is done). Web standards only.
 */
import type { NatsConnection, Status } from "@nats-io/nats-core";
import { MeshError } from "@runnerly/kit/web";

export type Health = {
  /** 200 `{status:"ok"}`, or 503 when the NATS connection is closed for good. */
  live(): Response;
  /** 200 when connected and routes are loaded, else a 503 problem saying which is missing. */
  ready(): Response;
  stop(): void;
};

/**
 * Watches the connection's status events (disconnect / reconnect) and the
 * first sweep, and answers the two health routes from them.
 *
 * @example
 * const health = watchHealth(nc, discovery.ready);
 * app.get("/readyz", () => health.ready());
 */
export function watchHealth(nc: NatsConnection, firstSweep: Promise<void>): Health {
  let connected = !nc.isClosed();
  let routesLoaded = false;
  void firstSweep.then(() => {
    routesLoaded = true;
  });
  // nats-core's iterator has stop(); the interface only promises AsyncIterable.
  const status = nc.status() as AsyncIterable<Status> & { stop?: () => void };
  void (async function follow() {
    for await (const s of status) {
      if (s.type === "disconnect" || s.type === "close") connected = false;
      else if (s.type === "reconnect") connected = true;
    }
  })().catch(() => {});

  return {
    live() {
      if (nc.isClosed()) return Response.json({ status: "nats connection closed" }, { status: 503 });
      return Response.json({ status: "ok" });
    },
    ready() {
      const missing: string[] = [];
      if (!connected || nc.isClosed()) missing.push("no NATS connection");
      if (!routesLoaded) missing.push("first discovery sweep not done");
      if (missing.length === 0) return Response.json({ status: "ready" });
      const detail = `The gateway is not ready: ${missing.join("; ")}.`;
      return new MeshError(503, { detail, headers: { "retry-after": "1" } }).toResponse("/readyz");
    },
    stop() {
      status.stop?.();
    },
  };
}
