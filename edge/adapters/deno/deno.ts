/**
 * The edge on Deno: `deno serve` serves the default export's `fetch`; NATS is
 * reached over WebSocket. Configuration comes from the environment (see
 * ../common/ws-config.ts); SIGTERM/SIGINT drain NATS before the process exits.
 *
 *   NATS_WS_URL=ws://127.0.0.1:8080 deno serve --node-modules-dir=manual --cached-only \
 *     --no-lock --allow-net --allow-env --host 127.0.0.1 --port 8787 edge/adapters/deno/deno.ts
 */

import { loadOrExit } from "@runnerly/kit/web";
import { createEdge } from "../../app.ts";
import { edgeOptionsFromConfig, WsEdgeConfigSchema } from "../../config.ts";
import { consoleLogger } from "../common/console-logger.ts";
import { connectNatsWs } from "../common/ws-nats.ts";

// The few Deno APIs this entry uses (tsconfig carries Bun's types, not Deno's).
declare const Deno: {
  env: { get(key: string): string | undefined; toObject(): Record<string, string> };
  addSignalListener(signal: "SIGTERM" | "SIGINT", handler: () => void): void;
  exit(code: number): never;
};

/** The second argument of a `deno serve` handler. */
type DenoServeInfo = { remoteAddr?: { hostname?: string; port?: number } };

const log = consoleLogger("edge", Deno.env.get("LOG_LEVEL"));
const config = loadOrExit(WsEdgeConfigSchema, Deno.env.toObject(), {
  subject: "edge",
  logger: log,
  exit: (code) => Deno.exit(code),
});
const nc = await connectNatsWs(config, { name: `edge-deno-${crypto.randomUUID().slice(0, 8)}`, logger: log });
const options = edgeOptionsFromConfig(config);
const edge = createEdge({
  nc,
  logger: log,
  ...options,
  // `deno serve` hands the handler its connection info (Hono passes it as `env`): the TCP peer.
  peerAddress:
    options.peerAddress ?? ((_req, info) => (info as DenoServeInfo | undefined)?.remoteAddr?.hostname),
});
await edge.ready;

let stopping = false;
/** Stops discovery and drains NATS; the open WebSocket would otherwise keep `deno serve` alive. */
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "edge stopping: draining NATS");
  const force = setTimeout(() => {
    log.error({}, "edge did not stop in time; exiting");
    Deno.exit(1);
  }, config.EDGE_TIMEOUT_MS + 5000);
  await edge.close();
  await nc.drain();
  clearTimeout(force);
  log.info({}, "edge stopped");
  Deno.exit(0);
}
Deno.addSignalListener("SIGTERM", () => void shutdown("SIGTERM"));
Deno.addSignalListener("SIGINT", () => void shutdown("SIGINT"));

export default {
  fetch: edge.app.fetch,
  /** `deno serve` calls this once it listens; the line says where (the Bun edge prints the same). */
  onListen({ hostname, port }: { hostname: string; port: number }): void {
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    log.info({ routes: edge.routes.list().length }, `edge listening on http://${host}:${port}`);
  },
};
