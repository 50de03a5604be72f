/**
 * `npm run dev`: runs all of Runnerly locally — nats-server with JetStream
 * (or the one at NATS_URL), every `services/<name>/main.ts` as its own Bun
 * process, and the edge — prints their URLs, then `✔ Runnerly ready — edge <url>`
 * once every service answers `$SRV.PING.<name>` and the edge answers
 * `GET /healthz`. A child that dies is restarted with backoff; Ctrl-C or
 * SIGTERM stops the services and the edge, then nats-server, and exits 0.
 *
 * Each child's start line carries its PID: `[runs] › started (pid 12345)`.
 *
 * The nats-server started here refuses anonymous clients: every service, the
 * edge and operators get their own user with least-privilege permissions
 * (scripts/dev/nats-security.ts), and their credentials through the
 * environment; the creds files are in `<data dir>/nats/creds/`. When
 * `runnerly creds add` changes the users, the launcher makes nats-server
 * reload them (SIGHUP).
 *
 * Environment (all optional):
 *   NATS_URL               use this NATS (comma-separated servers) instead of starting one
 *   NATS_PORT              port of the nats-server started here (4222)
 *   RUNNERLY_NATS_TLS      1: the nats-server started here requires TLS (dev CA under <data dir>/nats/tls);
 *                          verify: and client certificates
 *   EDGE_HOST, EDGE_PORT   where the edge listens (127.0.0.1, 8787)
 *   RUNNERLY_DATA_DIR      data dir: services' DATA_DIR, nats-server under nats/ (<repo>/.data)
 *   RUNNERLY_SERVICES_DIR  folder whose <name>/main.ts are the services (<repo>/services)
 *   RUNNERLY_EDGE_MAIN     the edge's entry file (<repo>/edge/main.ts)
 *   RUNNERLY_READY_TIMEOUT_MS  how long to wait for everything to be ready (60000)
 * A service's own `.env` (beside its main.ts) overrides PORT=0, HOST, etc. for it.
 */

import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { type Member, runLauncher } from "./dev/launcher.ts";
import { SupervisedProcess } from "./dev/supervisor.ts";

const edgeMain = resolve(process.env.RUNNERLY_EDGE_MAIN ?? join(import.meta.dir, "..", "edge", "main.ts"));

await runLauncher({
  clientName: "runnerly-dev",
  preflight() {
    if (!existsSync(edgeMain)) throw new Error(`edge entry ${edgeMain} not found`);
  },
  service: (service, env, tagWidth, onUrl) =>
    new SupervisedProcess({
      name: service.name,
      cmd: [process.execPath, service.main],
      cwd: service.dir,
      env,
      tagWidth,
      onLine: (line) => {
        const url = serviceUrlIn(line);
        if (url) onUrl(url);
      },
    }),
  edge: (env, tagWidth, onUrl) =>
    new SupervisedProcess({
      name: "edge",
      cmd: [process.execPath, edgeMain],
      cwd: dirname(edgeMain),
      env,
      tagWidth,
      onLine: (line) => {
        const url = /edge listening on (https?:\/\/[^\s"]+)/.exec(line)?.[1];
        if (url) onUrl(url);
      },
    }),
  describe: (child: Member) => (child.exits > 0 ? `exited ${child.exits}×, last ${child.lastExit}` : null),
});

/** The service's HTTP URL from its `"msg":"service ready"` log line, or null. */
function serviceUrlIn(line: string): string | null {
  if (!line.includes("service ready")) return null;
  try {
    const record = JSON.parse(line) as { msg?: unknown; url?: unknown };
    return record.msg === "service ready" && typeof record.url === "string" ? record.url : null;
  } catch {
    // not a JSON log line
    return null;
  }
}
