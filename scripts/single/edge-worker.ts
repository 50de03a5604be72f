/**
 * Worker entry of the edge in the one-process launcher: the edge served by
 * Bun (`startBunEdge`, as `edge/adapters/bun/worker.ts` serves an edge process), set up
 * from this worker's environment, with its own NATS connection (the edge's user).
 */

import { createLogger } from "@runnerly/kit";
import { startBunEdge } from "../../edge/adapters/bun/serve.ts";
import { loadConfig } from "../../edge/config.ts";
import { forwardLogs, hostInWorker } from "./worker-host.ts";

hostInWorker(async () => {
  const log = forwardLogs(createLogger("edge"));
  const config = loadConfig(process.env);
  const running = await startBunEdge(config, log, { clientName: "edge-single" });
  log.info({ routes: running.edge.routes.list().length }, `edge listening on ${running.url}`);
  return {
    url: running.url,
    async stop() {
      log.info({}, "edge stopping: no new connections, finishing requests in flight");
      await running.stop();
      log.info({}, "edge stopped");
    },
  };
});
