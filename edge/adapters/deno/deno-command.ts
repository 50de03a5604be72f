/**
 * The command that serves the edge with Deno (Bun/Node tooling, not edge
 * code), shared by run-deno.ts and the portability tests so both start it
 * the same way.
 */
import { denoBinary } from "../common/binaries.ts";

const ENTRY = new URL("./deno.ts", import.meta.url).pathname;

/**
 * `deno serve` of edge/adapters/deno.ts. The flags make Deno use the npm
 * packages already in node_modules (resolved through package.json) without
 * downloading anything or writing a deno.lock, and grant only the network
 * and the environment. Run it from the repository root.
 *
 * @example
 * Bun.spawn(denoServeCommand({ host: "127.0.0.1", port: 8787 }), { env: { NATS_WS_URL, PATH } });
 */
export function denoServeCommand(options: { host: string; port: number }): string[] {
  return [
    denoBinary(),
    "serve",
    "--node-modules-dir=manual",
    "--cached-only",
    "--no-lock",
    "--allow-net",
    "--allow-env",
    "--host",
    options.host,
    "--port",
    String(options.port),
    ENTRY,
  ];
}
