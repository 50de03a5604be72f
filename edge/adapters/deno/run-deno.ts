/**
 * Starts the edge on Deno from the environment (the same keys as the Bun
 * edge, with NATS_WS_URL instead of NATS_URL):
 *
 *   NATS_WS_URL=ws://127.0.0.1:8080 EDGE_PORT=8787 npm run edge:deno
 */

import { runForwardingSignals, wsConfigOrExit } from "../common/run-command.ts";
import { denoServeCommand } from "./deno-command.ts";

const config = wsConfigOrExit();
const root = new URL("../../../", import.meta.url).pathname;
process.chdir(root);
await runForwardingSignals(denoServeCommand({ host: config.EDGE_HOST, port: config.EDGE_PORT }), process.env);
