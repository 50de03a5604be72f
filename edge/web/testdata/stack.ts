/**
 * The whole Runnerly stack for the web journey test, in this process: a real
 * nats-server, the accounts, runs, stats and plans services (each with its
 * own SQLite file), and the real edge (which serves the web page and checks
 * tokens), served over HTTP by Bun on a free port.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { accountsService } from "@runnerly/accounts/service.ts";
import { silentLogger, startService } from "@runnerly/kit";
import { NatsServer, waitFor } from "@runnerly/kit/testing";
import { service as plansService } from "@runnerly/plans/service.ts";
import { service as runsService } from "@runnerly/runs/service.ts";
import { service as statsService } from "@runnerly/stats/service.ts";
import { createEdge } from "../../app.ts";
import { edgeOptionsFromConfig, loadConfig } from "../../config.ts";

export type WebStack = {
  /** Base URL of the page and the API (`http://127.0.0.1:<port>`). */
  url: string;
  /** Stops one service (every instance of it), to see the page degrade. */
  stopService(name: ServiceName): Promise<void>;
  stop(): Promise<void>;
};

type ServiceName = (typeof SERVICES)[number];

const SERVICES = ["accounts", "runs", "stats", "plans"] as const;

/**
 * Starts everything and waits until the edge routes to every service.
 *
 * @example
 * const stack = await startWebStack();
 * afterAll(() => stack.stop());
 */
export async function startWebStack(): Promise<WebStack> {
  const nats = await NatsServer.start();
  const dataDir = mkdtempSync(join(tmpdir(), "runnerly-web-"));
  const env = (name: string) => ({ NATS_URL: nats.url, DATA_DIR: join(dataDir, name), LOG_LEVEL: "silent" });
  const options = (name: string) => ({ env: env(name), logger: silentLogger });
  // Accounts first: its signing key exists before anyone signs up.
  const running = new Map<ServiceName, { stop(): Promise<void> }>([
    ["accounts", await startService(accountsService(env("accounts")), options("accounts"))],
    ["runs", await startService(runsService, options("runs"))],
    ["stats", await startService(statsService, options("stats"))],
    ["plans", await startService(plansService, options("plans"))],
  ]);

  const nc = await connect({ servers: nats.url, name: "edge" });
  // The edge as its entries build it, from configuration: defaults, plus a quick sweep.
  // Hostile input must reach the handlers: the services' declared limits are tested in tests/sla.
  const config = loadConfig({
    NATS_URL: nats.url,
    EDGE_SWEEP_INTERVAL_MS: "250",
    EDGE_SERVICE_LIMITS: "off",
  });
  const edge = createEdge({ ...edgeOptionsFromConfig(config), nc, logger: silentLogger });
  await edge.ready;
  await waitFor(() => SERVICES.every((s) => edge.routes.match(`/api/${s}/x`)?.instances.length), {
    what: "the edge routing to every service",
  });

  // The edge serves the page and the API, and verifies tokens itself.
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => edge.app.fetch(req) });
  const url = `http://127.0.0.1:${server.port}`;

  async function stopService(name: ServiceName): Promise<void> {
    await running.get(name)?.stop();
    running.delete(name);
  }
  async function stop(): Promise<void> {
    await server.stop(true);
    await edge.close();
    for (const name of [...running.keys()].reverse()) await stopService(name);
    await nc.close();
    await nats.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return { url, stopService, stop };
}
