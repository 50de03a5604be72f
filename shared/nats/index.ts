/**
 * NATS connection for Bun/Node processes: named, authenticated when
 * credentials are given, reconnecting forever with jitter, and logging every
 * disconnect and reconnect.
 */

import { readFileSync } from "node:fs";
import { credsAuthenticator, type NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import type { Logger } from "../log/index.ts";

export type NatsOptions = {
  /** One or more server URLs, comma-separated (`nats://127.0.0.1:4222`). */
  servers: string;
  /** Connection name shown by the server (`runs-<instance id>`). */
  name: string;
  user?: string | undefined;
  pass?: string | undefined;
  token?: string | undefined;
  /** Path to a `.creds` file (JWT + nkey seed). */
  credsFile?: string | undefined;
  logger: Logger;
};

/**
 * Connects and keeps reconnecting for as long as the process lives.
 *
 * @example
 * const nc = await connectNats({ servers: cfg.NATS_URL, name: "runs", logger: log });
 */
export async function connectNats(options: NatsOptions): Promise<NatsConnection> {
  const { logger } = options;
  const nc = await connect({
    servers: options.servers.split(",").map((s) => s.trim()),
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 250,
    waitOnFirstConnect: true,
    ...(options.user ? { user: options.user, pass: options.pass } : {}),
    ...(options.token ? { token: options.token } : {}),
    ...(options.credsFile ? { authenticator: credsAuthenticator(readFileSync(options.credsFile)) } : {}),
  });
  logger.info({ server: nc.getServer() }, "nats connected");
  void watchStatus(nc, logger);
  return nc;
}

async function watchStatus(nc: NatsConnection, logger: Logger): Promise<void> {
  for await (const s of nc.status()) {
    switch (s.type) {
      case "disconnect":
        logger.warn({ server: s.server }, "nats disconnected; reconnecting");
        break;
      case "reconnect":
        logger.info({ server: s.server }, "nats reconnected");
        break;
      case "error":
        logger.error({ err: String(s.error) }, "nats error");
        break;
      default:
        break;
    }
  }
}
