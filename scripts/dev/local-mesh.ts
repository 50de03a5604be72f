/**
 * NATS for both launchers (scripts/dev.ts, scripts/single.ts): the
 * nats-server at NATS_URL, or one started here with a user per service, the
 * edge and operators (least privilege), the services' streams and durables
 * provisioned, and a connection as the operator for the readiness checks.
 */
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import {
  edgeAccessFrom,
  type NatsSecurity,
  natsClientOptions,
  prepareNatsSecurity,
  tlsModeOf,
} from "./nats-security.ts";
import { startLocalNats } from "./nats-server.ts";
import { paint, step } from "./output.ts";
import { provisionServices } from "./provision.ts";
import type { ServiceEntry } from "./services.ts";
import type { SupervisedProcess } from "./supervisor.ts";

export type LocalMeshOptions = {
  env: Record<string, string | undefined>;
  dataDir: string;
  services: ServiceEntry[];
  tagWidth: number;
  /** The readiness connection's name, as nats-server shows it (`runnerly-dev`, `runnerly-single`). */
  clientName: string;
  /** Called with the nats-server process as soon as it is spawned, so a Ctrl-C during start-up stops it. */
  onNatsProcess(process: SupervisedProcess): void;
  /** Once aborted (the launcher is stopping), start-up goes no further: no provisioning, no connection. */
  signal?: AbortSignal;
};

export type LocalMesh = {
  url: string;
  /** Null when NATS_URL names a server of someone else's (no users made here). */
  security: NatsSecurity | null;
  /** The operator's connection (or an anonymous one to NATS_URL), for `$SRV.PING` readiness checks. */
  nc: NatsConnection;
  /** Where each part listens: `nats`, `nats users`. */
  urls: Map<string, string>;
  /** Stops watching the users file (nats-server reloads when `runnerly creds add` changes it). */
  stopWatchingUsers(): void;
};

/**
 * Brings NATS up and provisions the services' streams.
 *
 * @example
 * const mesh = await startLocalMesh({
 *   env, dataDir, services, tagWidth, clientName: "runnerly-dev", onNatsProcess: (p) => (nats = p),
 * });
 */
export async function startLocalMesh(o: LocalMeshOptions): Promise<LocalMesh> {
  const urls = new Map<string, string>();
  let url = o.env.NATS_URL;
  let security: NatsSecurity | null = null;
  let stopWatchingUsers = () => {};
  if (url) {
    step(`using NATS at ${url}`);
  } else {
    const natsDir = join(o.dataDir, "nats");
    const port = Number(o.env.NATS_PORT ?? 4222);
    const tls = tlsModeOf(o.env.RUNNERLY_NATS_TLS);
    const note = (text: string) => step(paint.yellow(text));
    security = await prepareNatsSecurity({
      natsDir,
      services: o.services,
      port,
      tls,
      edge: edgeAccessFrom(o.env),
      note,
    });
    step(`starting nats-server (JetStream store in ${natsDir}, ${security.auth.users.length} users)…`);
    const local = startLocalNats({
      dataDir: o.dataDir,
      port,
      tagWidth: o.tagWidth,
      extraConfig: security.serverConfig,
      url: security.url,
    });
    o.onNatsProcess(local.process);
    url = local.url;
    await local.ready;
    urls.set("nats users", security.auth.credsDir);
    stopWatchingUsers = security.watchUsers(() => {
      if (local.process.signal("SIGHUP"))
        step("NATS users changed (runnerly creds add); nats-server reloads them");
    });
    o.signal?.throwIfAborted();
    await provision(security, o.env);
  }
  urls.set("nats", url);
  o.signal?.throwIfAborted();
  // Readiness probes go out as the operator, the only user allowed to ping every service.
  const own = security ? natsClientOptions(security.operatorEnv()) : { servers: url.split(",") };
  const nc = await connect({ ...own, name: o.clientName, maxReconnectAttempts: -1 }).catch((err: unknown) => {
    stopWatchingUsers();
    throw new Error(`cannot connect to NATS at ${url}: ${String(err)}`);
  });
  return { url, security, nc, urls, stopWatchingUsers };
}

/**
 * Streams and durables are made here, as the provisioner, before the services
 * start: their own users may not create them. A failure is reported and the
 * services start anyway (each says what it misses and retries).
 */
async function provision(security: NatsSecurity, env: Record<string, string | undefined>): Promise<void> {
  const pc = await connect({ ...natsClientOptions(security.provisionerEnv()), name: "runnerly-provision" });
  try {
    const failed = await provisionServices(pc, security.described, env, (line) => step(paint.dim(line)));
    for (const f of failed) step(paint.yellow(`could not provision ${f}`));
  } finally {
    await pc.close().catch(() => {});
  }
}
