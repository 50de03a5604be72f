/**
 * `npm run start:single` / `runnerly start --single`: Runnerly in one Bun
 * process. Every `services/<name>/service.ts` runs in a Worker of its own
 * (its own NATS user, its own SQLite file under DATA_DIR, its own HTTP port),
 * and so does the edge; they talk over NATS exactly as in the multi-process
 * layout (scripts/dev.ts), whose modules this reuses. nats-server is still a
 * process of its own (or the one at NATS_URL). It prints where everything
 * listens, then `✔ Runnerly ready — edge <url>` once every service answers
 * `$SRV.PING.<name>` and the edge answers `GET /healthz`.
 *
 * A worker that crashes (uncaught error, unhandled rejection, process.exit)
 * ends alone: `[runs] › worker crashed (…); restarting in 0.5 s`, and a fresh
 * one starts with backoff while the others keep serving. Ctrl-C or SIGTERM
 * stops every worker gracefully (each service announces it stops and drains),
 * then nats-server, and exits 0.
 *
 * Environment: as scripts/dev.ts (NATS_URL, NATS_PORT, RUNNERLY_NATS_TLS,
 * EDGE_HOST, EDGE_PORT, RUNNERLY_DATA_DIR, RUNNERLY_SERVICES_DIR,
 * RUNNERLY_READY_TIMEOUT_MS; a service's `.env` beside its main.ts).
 * Run it as `bun --max-http-header-size=65536 scripts/single.ts` (the npm
 * script and the CLI do): Bun's header limit is one per process and must sit
 * above the edge's, so clients see the edge's 431/414 problems.
 */

import { existsSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { type Member, runLauncher } from "./dev/launcher.ts";
import { paint, step } from "./dev/output.ts";
import { bunHeaderRoom } from "./single/header-room.ts";
import { SupervisedWorker } from "./single/supervisor.ts";

const entries = {
  service: join(import.meta.dir, "single", "service-worker.ts"),
  edge: join(import.meta.dir, "single", "edge-worker.ts"),
};

await runLauncher({
  clientName: "runnerly-single",
  // A worker runs a service from its definition; a folder with only a main.ts can't be hosted here.
  select(all) {
    const services = all.filter((s) => existsSync(join(s.dir, "service.ts")));
    for (const s of all.filter((s) => !services.includes(s)))
      step(paint.yellow(`${s.name}: no service.ts, so it can't run in a worker; run it with npm run dev`));
    return services;
  },
  preflight() {
    const room = bunHeaderRoom(process.env);
    if (http.maxHeaderSize < room)
      step(
        paint.yellow(
          `Bun's header limit is ${http.maxHeaderSize} bytes, below the edge's ${room}: oversized headers get ` +
            `Bun's bare 431; run bun --max-http-header-size=${room} scripts/single.ts (npm run start:single does)`,
        ),
      );
  },
  service: (service, env, tagWidth, onReady) =>
    new SupervisedWorker({
      name: service.name,
      entry: entries.service,
      job: { name: service.name, dir: service.dir },
      env,
      tagWidth,
      onReady,
    }),
  edge: (env, tagWidth, onReady) =>
    new SupervisedWorker({ name: "edge", entry: entries.edge, env, tagWidth, onReady }),
  describe: (worker: Member) =>
    worker.exits > 0 ? `crashed ${worker.exits}×, last: ${worker.lastExit}` : null,
  readyNote: (workers) => `one process (pid ${process.pid}): ${workers.length} workers, nats-server apart`,
});
