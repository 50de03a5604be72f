/**
 * Builds the workerd edge into `.data/workerd` and serves it, configured
 * from the environment (the same keys as the Bun edge, with NATS_WS_URL
 * instead of NATS_URL):
 *
 *   NATS_WS_URL=ws://127.0.0.1:8080 EDGE_PORT=8787 npm run edge:workerd
 */
import { join } from "node:path";
import { runForwardingSignals, wsConfigOrExit } from "../common/run-command.ts";
import { buildWorkerd } from "./build.ts";

const config = wsConfigOrExit();
const outDir = join(new URL("../../../", import.meta.url).pathname, ".data", "workerd");
const { command } = await buildWorkerd({
  outDir,
  host: config.EDGE_HOST,
  port: config.EDGE_PORT,
  env: process.env,
});
const host = config.EDGE_HOST.includes(":") ? `[${config.EDGE_HOST}]` : config.EDGE_HOST;
// workerd prints nothing when it listens; say where, as the other edges do.
console.log(
  `edge (workerd) serving on http://${host}:${config.EDGE_PORT}; NATS at ${config.NATS_WS_URL.join(", ")}`,
);
await runForwardingSignals(command, process.env);
