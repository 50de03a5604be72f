/**
 * The whole Runnerly stack for the web journey test, in this process: a real
 * nats-server, the accounts, runs, stats and plans services (each with its
 * own SQLite file), the real edge, and the web page, served over HTTP by
 * Bun on a free port.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { accountsService } from "@runnerly/accounts/service.ts";
import { silentLogger, startService } from "@runnerly/kit";
import { NatsServer, waitFor } from "@runnerly/kit/testing";
import { service as plansService } from "@runnerly/plans/service.ts";
import { service as runsService } from "@runnerly/runs/service.ts";
import { service as statsService } from "@runnerly/stats/service.ts";
import { createEdge, type Edge } from "../../app.ts";
import { edgeOptionsFromConfig, loadConfig } from "../../config.ts";
import { webPage } from "../page.tsx";
import { standInAuth } from "./stand-in-auth.ts";

export type WebStack = {
  /** Base URL of the page and the API (`http://127.0.0.1:<port>`). */
  url: string;
  /** "edge" when the edge verified tokens itself; "stand-in" while it does not yet. */
  auth: "edge" | "stand-in";
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
  const config = loadConfig({ NATS_URL: nats.url, EDGE_SWEEP_INTERVAL_MS: "250" });
  const edge = createEdge({ ...edgeOptionsFromConfig(config), nc, logger: silentLogger });
  await edge.ready;
  await waitFor(() => SERVICES.every((s) => edge.routes.match(`/api/${s}/x`)?.instances.length), {
    what: "the edge routing to every service",
  });

  const auth = (await edgeVerifiesTokens(edge)) ? "edge" : "stand-in";
  const fetch = await pageAndApi(edge, nc, auth);
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch });
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
  return { url, auth, stopService, stop };
}

type Fetch = (req: Request) => Response | Promise<Response>;

/**
 * The HTTP handler: the edge alone once it mounts the page (`GET /` is
 * HTML); until then the page's routes beside the edge, as edge/app.ts is to
 * mount them. The stand-in auth wraps it while the edge checks no tokens.
 */
async function pageAndApi(edge: Edge, nc: NatsConnection, auth: WebStack["auth"]): Promise<Fetch> {
  const home = await edge.app.request("/");
  const edgeServesPage = home.headers.get("content-type")?.startsWith("text/html") ?? false;
  await home.body?.cancel();
  const page = webPage();
  const PAGE_PATHS = new Set(["/", "/app.js", "/app.css"]);
  const api: Fetch = (req) => edge.app.fetch(req);
  const both: Fetch = edgeServesPage
    ? api
    : (req) => (PAGE_PATHS.has(new URL(req.url).pathname) ? page.fetch(req) : api(req));
  return auth === "edge" ? both : standInAuth(nc, both);
}

/**
 * Signs up a probe account and asks for its profile with the token: 200 once
 * the edge names the caller. An edge that verifies tokens may still be
 * fetching the keys, so this asks again for a short, bounded while.
 */
async function edgeVerifiesTokens(edge: Edge): Promise<boolean> {
  const email = `probe-${crypto.randomUUID()}@example.com`;
  const signup = await edge.app.request("/api/accounts/signup", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: "probe Password 1" }),
  });
  if (signup.status !== 201) throw new Error(`probe sign-up failed: ${signup.status} ${await signup.text()}`);
  const { accessToken } = (await signup.json()) as { accessToken: string };
  const headers = { authorization: `Bearer ${accessToken}` };
  return waitFor(
    async () => {
      const me = await edge.app.request("/api/accounts/me", { headers });
      await me.body?.cancel();
      return me.status === 200;
    },
    { timeoutMs: 2000, intervalMs: 50, what: "the edge to name the caller" },
  ).catch(() => false);
}
