/**
 * Builds the workerd edge into a directory (Bun tooling, not edge code): the
 * worker bundled by `bun build --target=browser --format=esm` (every
 * dependency inlined, web standards only), and a config.capnp beside it.
 * run.ts and the portability tests start workerd from the result.
 */

import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WsEdgeConfigSchema } from "../../config.ts";
import { workerdBinary } from "../common/binaries.ts";
import { workerdConfig } from "./capnp.ts";

const ENTRY = new URL("./worker.ts", import.meta.url).pathname;

/** The environment keys the worker reads (see ../common/ws-config.ts); each becomes a text binding. */
// Every edge setting (timeouts, retries, auth…) except those that make no sense in a worker:
// where the Bun edge listens and connects, and files (run.ts refuses those before building).
const NOT_IN_A_WORKER = ["NATS_URL", "NATS_CREDS", "NATS_TLS_CA", "NATS_TLS_CERT", "NATS_TLS_KEY"];
export const WORKER_ENV_KEYS = Object.keys(WsEdgeConfigSchema.shape).filter(
  (k) => ![...NOT_IN_A_WORKER, "EDGE_HOST", "EDGE_PORT", "EDGE_WORKERS"].includes(k),
);

export type WorkerdBuildOptions = {
  /** Output directory (created if missing). */
  outDir: string;
  host: string;
  port: number;
  /** Where the binding values come from (e.g. `process.env`). */
  env: Record<string, string | undefined>;
};

/**
 * Bundles the worker, writes its config, and returns the command that serves it.
 *
 * @example
 * const { command } = await buildWorkerd({ outDir: ".data/workerd", host: "127.0.0.1", port: 8787, env: process.env });
 * Bun.spawn(command, { stdout: "inherit", stderr: "inherit" });
 */
export async function buildWorkerd(options: WorkerdBuildOptions): Promise<{ command: string[] }> {
  const { outDir, host, port, env } = options;
  // Resolved first: a missing binary should fail before any work, with how to install it.
  const binary = workerdBinary();
  mkdirSync(outDir, { recursive: true });
  const result = await Bun.build({
    entrypoints: [ENTRY],
    outdir: outDir,
    naming: "worker.js",
    target: "browser",
    format: "esm",
  });
  if (!result.success) throw new AggregateError(result.logs, "bundling the workerd edge failed");

  const bindings = Object.fromEntries(WORKER_ENV_KEYS.map((key) => [key, env[key]]));
  const address = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  const configFile = join(outDir, "config.capnp");
  // Credentials are written into it as bindings: owner-only, also when the file existed before.
  writeFileSync(configFile, workerdConfig({ address, workerFile: "worker.js", bindings }), { mode: 0o600 });
  chmodSync(configFile, 0o600);
  return { command: [binary, "serve", configFile] };
}
