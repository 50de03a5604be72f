/**
 * NATS security for the launcher's own nats-server, remade on every start:
 * one user per service folder (permissions from its definition), one for the
 * edge and one for operators, each with a creds file under
 * `<data dir>/nats/creds/`; users added with `runnerly creds add` are kept.
 * With `RUNNERLY_NATS_TLS=1` the server requires TLS with a dev CA under
 * `<data dir>/nats/tls/`; with `verify` it also requires client certificates.
 */
import { type FSWatcher, watch } from "node:fs";
import { join } from "node:path";
import {
  AUTH_FILE,
  EDGE_USER,
  type EdgeAccess,
  ensureClientCertificate,
  ensureDevCertificates,
  type NatsAuthFiles,
  OPERATOR_USER,
  PROVISIONER_USER,
  readNatsAuthState,
  renderTls,
  writeNatsAuth,
} from "@runnerly/kit/security";
import { type DescribedService, describeServices } from "./nats-access.ts";
import type { ServiceEntry } from "./services.ts";

/** `off`, `on` (server certificate) or `verify` (client certificates too), from RUNNERLY_NATS_TLS. */
export type TlsMode = "off" | "on" | "verify";

export type NatsSecurityOptions = {
  /** `<data dir>/nats`: auth.conf, creds/, tls/, access.json. */
  natsDir: string;
  services: ServiceEntry[];
  port: number;
  tls: TlsMode;
  /** The edge's RPC calls and KV buckets (`edgeAccessFrom(env)`). */
  edge?: EdgeAccess;
  /** Where to say what happened (warnings about services that could not be described). */
  note: (text: string) => void;
};

export type NatsSecurity = {
  /** `nats://…` or `tls://…` */
  url: string;
  /** Lines for nats.conf: the auth include and, with TLS, the tls block. */
  serverConfig: string[];
  auth: NatsAuthFiles;
  /** The service folders as their definitions describe them (what the provisioner makes). */
  described: DescribedService[];
  /** NATS_URL, NATS_USER, NATS_PASS and NATS_TLS_* for a service folder's process. */
  serviceEnv(entry: ServiceEntry): Record<string, string>;
  edgeEnv(): Record<string, string>;
  operatorEnv(): Record<string, string>;
  provisionerEnv(): Record<string, string>;
  /** Calls `onChange` when auth.conf is rewritten (by `runnerly creds add`); returns a stop function. */
  watchUsers(onChange: () => void): () => void;
};

/**
 * Writes users, creds files and (with TLS) certificates for this start.
 *
 * @example
 * const security = await prepareNatsSecurity({ natsDir, services, port: 4222, tls: "off", note: step });
 * startLocalNats({ dataDir, port, tagWidth, extraConfig: security.serverConfig, url: security.url });
 */
export async function prepareNatsSecurity(o: NatsSecurityOptions): Promise<NatsSecurity> {
  const described = await describeServices(o.services);
  for (const d of described) if (d.warning) o.note(d.warning);
  const url = `${o.tls === "off" ? "nats" : "tls"}://127.0.0.1:${o.port}`;
  const tlsDir = join(o.natsDir, "tls");
  const tlsFiles = o.tls === "off" ? null : ensureDevCertificates(tlsDir);
  const auth = await writeNatsAuth(o.natsDir, {
    services: described.map((d) => d.access),
    added: readNatsAuthState(o.natsDir)?.added ?? [],
    connection: { NATS_URL: url, ...(tlsFiles ? { NATS_TLS_CA: tlsFiles.caFile } : {}) },
    clientCertificates: o.tls === "verify" ? join(tlsDir, "clients") : undefined,
    edge: o.edge,
  });
  if (o.tls === "verify")
    for (const { user, role } of auth.users) if (role !== "pull") ensureClientCertificate(tlsDir, user);
  const serverConfig = [`include ${JSON.stringify(AUTH_FILE)}`];
  if (tlsFiles) serverConfig.push(renderTls(tlsFiles, { verifyClients: o.tls === "verify" }));
  const userOf = new Map(described.map((d) => [d.entry.dir, d.access.name]));
  return {
    url,
    serverConfig,
    auth,
    described,
    serviceEnv: (entry) => auth.env(userOf.get(entry.dir) ?? entry.name),
    edgeEnv: () => auth.env(EDGE_USER),
    operatorEnv: () => auth.env(OPERATOR_USER),
    provisionerEnv: () => auth.env(PROVISIONER_USER),
    watchUsers: (onChange) => watchAuthFile(o.natsDir, onChange),
  };
}

/** What the edge will ask for, from the keys it reads: its JWKS subject, its rate-limit KV bucket, the revoked sessions' bucket. *
 * @example
 * edgeAccessFrom({ EDGE_RATE_LIMIT_BUCKET: "off" }); // { calls: ["svc.accounts.rpc.jwks"], kvBuckets: [], watches: ["revoked_sessions"] }
 */
export function edgeAccessFrom(env: Record<string, string | undefined>): EdgeAccess {
  const bucket = env.EDGE_RATE_LIMIT_BUCKET || "edge_rate_limits";
  const revoked = env.EDGE_AUTH_REVOKED_BUCKET || "revoked_sessions";
  return {
    calls: [env.EDGE_AUTH_JWKS_SUBJECT || "svc.accounts.rpc.jwks"],
    kvBuckets: bucket === "off" ? [] : [bucket],
    watches: revoked === "off" ? [] : [revoked],
  };
}

/** RUNNERLY_NATS_TLS: unset/0/off, 1/on/true, or verify. *
 * @example
 * tlsModeOf(process.env.RUNNERLY_NATS_TLS); // "off" | "on" | "verify"
 */
export function tlsModeOf(value: string | undefined): TlsMode {
  const v = (value ?? "").trim().toLowerCase();
  if (["", "0", "off", "false", "no"].includes(v)) return "off";
  if (["1", "on", "true", "yes"].includes(v)) return "on";
  if (v === "verify") return "verify";
  throw new Error(
    `RUNNERLY_NATS_TLS must be 1 (TLS), verify (TLS with client certificates) or 0; got "${value}"`,
  );
}

/**
 * nats.js connect options for a creds environment: user, password, the
 * user's own inbox (the only one its permissions allow) and TLS.
 *
 * @example
 * const nc = await connect({ ...natsClientOptions(security.operatorEnv()), name: "runnerly-dev" });
 */
export function natsClientOptions(env: Record<string, string>) {
  return {
    servers: (env.NATS_URL ?? "").split(","),
    user: env.NATS_USER,
    pass: env.NATS_PASS,
    ...(env.NATS_USER ? { inboxPrefix: `_INBOX.${env.NATS_USER}` } : {}),
    ...(env.NATS_TLS_CA
      ? {
          tls: {
            caFile: env.NATS_TLS_CA,
            ...(env.NATS_TLS_CERT ? { certFile: env.NATS_TLS_CERT, keyFile: env.NATS_TLS_KEY } : {}),
          },
        }
      : {}),
  };
}

/** Watches the folder (auth.conf is replaced by a rename) and reports changes, a burst as one. */
function watchAuthFile(dir: string, onChange: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const watcher: FSWatcher = watch(dir, (_event, file) => {
    if (file !== AUTH_FILE) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, 100);
  });
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}
