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
 *
 * The stack itself is scripts/dev/dev-stack.ts, which `runnerly dev` runs in
 * any project; this file runs it on this repository.
 */

import { join } from "node:path";
import { runDevStack } from "./dev/dev-stack.ts";

const repo = join(import.meta.dir, "..");

// The edge: RUNNERLY_EDGE_MAIN, else edge/main.ts here.
await runDevStack({ root: repo });
