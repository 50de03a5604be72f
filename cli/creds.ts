/**
 * `runnerly creds add <name>`: a NATS user for a new or foreign service, with
 * the least permissions its description allows, added to the users the dev
 * stack generates (`<data dir>/nats`). It writes `creds/<name>.env` and
 * regenerates `auth.conf`; `npm run dev` notices and makes nats-server reload
 * (SIGHUP); another nats-server that includes the file reloads with
 * `kill -HUP <pid>` or `nats-server --signal reload=<pid>`.
 */
import { dirname, join, resolve } from "node:path";
import {
  ensureClientCertificate,
  type NatsAuthState,
  readCredentials,
  readNatsAuthState,
  type ServiceAccess,
  writeNatsAuth,
} from "@runnerly/kit/security";
import { findProjectRoot } from "../scripts/dev/project.ts";

export type CredsAddFlags = {
  /** RPC subjects it calls, comma-separated: `svc.stats.rpc.weeklyTotals,svc.runs.rpc.get`. */
  calls?: string;
  /** Durables it keeps, comma-separated `STREAM:durable`: `EVENTS_RUNS:audit-log-runs`. */
  consumes?: string;
  /** It publishes events on `events.<name>.>` into its own stream. */
  events?: boolean;
  /** It may read `_INBOX.>` (for clients that cannot set an inbox prefix). */
  sharedInbox?: boolean;
  /** Tasks it works from its own queue `TASKS_<NAME>`, comma-separated: `greet,greet.batch`. */
  works?: string;
  /** Tasks it submits, comma-separated `owner/name`: `stats/report.season`. */
  submits?: string;
};

/**
 * `<RUNNERLY_DATA_DIR or <project>/.data>/nats`, where the dev stack keeps its NATS files.
 *
 * @example
 * readCredentials(join(devNatsDir(), "creds", "operator.env"));
 */
export function devNatsDir(env: Record<string, string | undefined> = process.env): string {
  return join(resolve(env.RUNNERLY_DATA_DIR ?? join(findProjectRoot(), ".data")), "nats");
}

/**
 * Adds (or replaces) the user `name` and returns its creds file and what to tell the person.
 *
 * @example
 * await addCredentials(devNatsDir(), "greeter", { calls: "svc.stats.rpc.weeklyTotals" });
 */
export async function addCredentials(
  natsDir: string,
  name: string,
  flags: CredsAddFlags,
): Promise<{ file: string; access: ServiceAccess; lines: string[] }> {
  const access: ServiceAccess = {
    name,
    events: flags.events === true,
    consumes: list(flags.consumes).map(function parseConsumes(item) {
      const [stream, durable, ...rest] = item.split(":");
      if (!stream || !durable || rest.length > 0)
        throw new Error(`--consumes takes STREAM:durable, got "${item}"`);
      return { stream, durable };
    }),
    calls: list(flags.calls),
    ...(flags.works ? { works: list(flags.works) } : {}),
    ...(flags.submits
      ? {
          submits: list(flags.submits).map(function parseSubmits(item) {
            const [service, name, ...rest] = item.split("/");
            if (!service || !name || rest.length > 0)
              throw new Error(`--submits takes owner/name (for example stats/report.season), got "${item}"`);
            return { service, name };
          }),
        }
      : {}),
    ...(flags.sharedInbox ? { sharedInbox: true } : {}),
    // A foreign service is not described by a definition the provisioner can read: it makes its own.
    selfProvision: true,
  };
  const state: NatsAuthState = readNatsAuthState(natsDir) ?? { services: [], added: [], connection: {} };
  if (state.clientCertificates) ensureClientCertificate(dirname(state.clientCertificates), name);
  const auth = await writeNatsAuth(natsDir, {
    ...state,
    added: [...state.added.filter((a) => a.name !== name), access],
  });
  const file = join(auth.credsDir, `${name}.env`);
  const lines = [
    `wrote ${file} (NATS_USER=${readCredentials(file).NATS_USER}, mode 0600)`,
    `updated ${auth.authFile}: npm run dev makes nats-server reload it by itself; another server: kill -HUP <its pid>`,
    access.sharedInbox
      ? "its client may read every reply on the server (--shared-inbox): keep it trusted"
      : `its client must use the inbox prefix _INBOX.${name} (Go: nats.CustomInboxPrefix, Python: inbox_prefix=, the kit: automatic)`,
  ];
  if (access.events || access.consumes.length > 0 || access.works?.length || access.submits?.length)
    lines.push(
      "it creates and updates its own streams and durables, task queues included (the kit's services leave that to the provisioner): keep it trusted",
    );
  if (state.services.length === 0)
    lines.push(`note: ${natsDir} had no dev stack yet; npm run dev adds the services' own users`);
  return { file, access, lines };
}

function list(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}
