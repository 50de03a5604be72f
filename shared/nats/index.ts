/**
 * NATS connection for Bun/Node processes: named, authenticated when
 * credentials are given, over TLS when a CA (and for mutual TLS a client
 * certificate) is given, reconnecting forever with jitter, and logging every
 * disconnect and reconnect.
 */

import { readFileSync } from "node:fs";
import { credsAuthenticator, type NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import type { Logger } from "../log/index.ts";
import { flushOncePerTurn, flushPatchProblem } from "./flush.ts";

export { flushOncePerTurn, flushPatchProblem } from "./flush.ts";

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
  /** PEM file of the CA that signed the server's certificate: connect over TLS and trust only it. */
  tlsCaFile?: string | undefined;
  /** Client certificate and key (PEM files), for servers that verify clients (mutual TLS). */
  tlsCertFile?: string | undefined;
  tlsKeyFile?: string | undefined;
  /**
   * Prefix of reply inboxes. Default `_INBOX.<user>` when `user` is a plain
   * name, so the server can let each user read only its own replies (see
   * shared/security); otherwise the client's default `_INBOX`.
   */
  inboxPrefix?: string | undefined;
  logger: Logger;
};

/**
 * Connects and keeps reconnecting for as long as the process lives.
 *
 * @example
 * const nc = await connectNats({ servers: cfg.NATS_URL, name: "runs", logger: log });
 * const tls = await connectNats({ servers: "tls://127.0.0.1:4222", name: "runs", tlsCaFile: "ca.pem", logger: log });
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
    // No Error (with its stack) made per request for async traces: measured at
    // about 40 µs of the edge's CPU per request (BENCHMARKS.md, lever 1).
    noAsyncTraces: true,
    ...(options.user ? { user: options.user, pass: options.pass } : {}),
    ...(options.token ? { token: options.token } : {}),
    ...(options.credsFile ? { authenticator: credsAuthenticator(readFileSync(options.credsFile)) } : {}),
    ...tlsOptions(options),
    ...(inboxPrefixOf(options) ? { inboxPrefix: inboxPrefixOf(options) } : {}),
  });
  // One socket write per event-loop turn, not per message (flush.ts; BENCHMARKS.md).
  if (!flushOncePerTurn(nc)) {
    logger.warn(
      { problem: flushPatchProblem(nc) },
      "nats writes stay one per message (client internals changed)",
    );
  }
  logger.info({ server: nc.getServer() }, "nats connected");
  void watchStatus(nc, logger);
  return nc;
}

/** nats.js TLS options, or none when no TLS file is given (a `tls://` URL still asks for TLS). */
function tlsOptions(o: NatsOptions): { tls?: { caFile?: string; certFile?: string; keyFile?: string } } {
  if (!o.tlsCaFile && !o.tlsCertFile && !o.tlsKeyFile) return {};
  return {
    tls: {
      ...(o.tlsCaFile ? { caFile: o.tlsCaFile } : {}),
      ...(o.tlsCertFile ? { certFile: o.tlsCertFile } : {}),
      ...(o.tlsKeyFile ? { keyFile: o.tlsKeyFile } : {}),
    },
  };
}

function inboxPrefixOf(o: NatsOptions): string | undefined {
  if (o.inboxPrefix) return o.inboxPrefix;
  return o.user && /^[A-Za-z0-9_-]+$/.test(o.user) ? `_INBOX.${o.user}` : undefined;
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

/** The NATS settings of an environment (the keys every service, the edge and the CLI read). */
export type NatsEnv = {
  NATS_URL: string;
  NATS_USER?: string | undefined;
  NATS_PASS?: string | undefined;
  NATS_TOKEN?: string | undefined;
  NATS_CREDS?: string | undefined;
  NATS_TLS_CA?: string | undefined;
  NATS_TLS_CERT?: string | undefined;
  NATS_TLS_KEY?: string | undefined;
};

/**
 * `connectNats` options from configuration, so every process reads the same keys the same way.
 *
 * @example
 * const nc = await connectNats(natsOptionsFrom(config, "runnerly-cli", logger));
 */
export function natsOptionsFrom(env: NatsEnv, name: string, logger: Logger): NatsOptions {
  return {
    servers: env.NATS_URL,
    name,
    user: env.NATS_USER,
    pass: env.NATS_PASS,
    token: env.NATS_TOKEN,
    credsFile: env.NATS_CREDS,
    tlsCaFile: env.NATS_TLS_CA,
    tlsCertFile: env.NATS_TLS_CERT,
    tlsKeyFile: env.NATS_TLS_KEY,
    logger,
  };
}

/**
 * Connects for a short-lived command: like `connectNats`, but gives up after
 * `ms` instead of waiting for a server forever (the attempt is closed then).
 *
 * @example
 * const nc = await connectNatsWithin(natsOptionsFrom(config, "runnerly-cli", logger), 5000);
 */
export async function connectNatsWithin(options: NatsOptions, ms: number): Promise<NatsConnection> {
  const attempt = connectNats(options);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no NATS server answered within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([attempt, timeout]);
  } catch (err) {
    // Don't leave the attempt reconnecting in the background.
    void attempt.then((nc) => nc.close()).catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
