/**
 * The edge's NATS connection over WebSocket, for runtimes without TCP sockets
 * that NATS' node transport can use (Deno, workerd). Same policy as the kit's
 * TCP connection: named, authenticated, reconnecting forever with jitter, and
 * every disconnect logged.
 */
import { type NatsConnection, wsconnect } from "@nats-io/nats-core";
import type { Logger } from "@runnerly/kit/web";
import type { WsEdgeConfig } from "./ws-config.ts";

/**
 * Connects to nats-server's websocket listener(s) named in the config.
 *
 * @example
 * const nc = await connectNatsWs(loadWsConfig(env), { name: "edge-deno", logger });
 */
export async function connectNatsWs(
  config: WsEdgeConfig,
  options: { name: string; logger: Logger },
): Promise<NatsConnection> {
  const { logger } = options;
  const nc = await wsconnect({
    servers: config.NATS_WS_URL,
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 250,
    waitOnFirstConnect: true,
    ...(config.NATS_USER ? { user: config.NATS_USER, pass: config.NATS_PASS } : {}),
    ...(config.NATS_TOKEN ? { token: config.NATS_TOKEN } : {}),
  });
  logger.info({ server: nc.getServer() }, "nats connected over websocket");
  void watchStatus(nc, logger);
  return nc;
}

async function watchStatus(nc: NatsConnection, logger: Logger): Promise<void> {
  for await (const s of nc.status()) {
    if (s.type === "disconnect") logger.warn({ server: s.server }, "nats disconnected; reconnecting");
    else if (s.type === "reconnect") logger.info({ server: s.server }, "nats reconnected");
    else if (s.type === "error") logger.error({ err: String(s.error) }, "nats error");
  }
}
