/**
 * The deployment's own files as real processes, on loopback instead of a
 * Docker network: deploy/nats/nats-{1,2,3}.conf (addresses and store moved,
 * nothing else) with the users deploy/nats-auth.ts writes; the provision
 * step as compose runs it (deploy/entrypoint.sh with the provisioner's split
 * creds, deploy/healthcheck.ts --wait, `runnerly provision`, EVENTS_REPLICAS=3);
 * a service started by the entrypoint from SERVICE and its own creds file,
 * healthy by deploy/healthcheck.ts; then lame duck (SIGUSR2) on the node it
 * is connected to moves it to another node.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { connect } from "@nats-io/transport-node";
import { freePort, waitFor } from "@runnerly/kit/testing";
import type { Subprocess } from "bun";
import {
  lacksSyncInterval,
  loopbackConfig,
  NODES,
  type NodeName,
  type NodePorts,
  natsServerBinary,
  runCommand,
  writeDeploymentAuth,
} from "./testing.ts";

setDefaultTimeout(120_000);

const repo = resolve(import.meta.dir, "..");
const entrypoint = join(repo, "deploy", "entrypoint.sh");
const dir = mkdtempSync(join(tmpdir(), "runnerly-deploy-cluster-"));
const ports = {} as Record<NodeName, NodePorts>;
const nodes = new Map<NodeName, Subprocess>();
const children: Subprocess[] = [];
let clientUrls: string[] = [];

const monitor = (node: NodeName, path: string) =>
  fetch(`http://127.0.0.1:${ports[node].http}${path}`, { signal: AbortSignal.timeout(2000) });

/** Runs a command through the image's entry point with `env`, collecting its output. */
function viaEntrypoint(cmd: string[], env: Record<string, string>) {
  return runCommand([entrypoint, ...cmd], {
    cwd: repo,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? dir, ...env },
  });
}

beforeAll(async () => {
  for (const n of NODES)
    ports[n] = { client: await freePort(), http: await freePort(), cluster: await freePort() };
  clientUrls = NODES.map((n) => `nats://127.0.0.1:${ports[n].client}`);
  // One directory per user, as compose mounts one volume per user under /creds.
  for (const user of ["runs", "provisioner", "operator"])
    mkdirSync(join(dir, "creds", user), { recursive: true });
  await writeDeploymentAuth(join(dir, "auth"), clientUrls, join(dir, "creds"));
  const bin = natsServerBinary();
  const old = lacksSyncInterval(bin);
  if (old)
    console.warn(
      `note: ${bin} is older than 2.10 and does not know sync_interval; started without that line`,
    );
  for (const n of NODES) {
    const file = join(dir, `${n}.conf`);
    writeFileSync(file, loopbackConfig(n, ports, join(dir, `store-${n}`), old));
    nodes.set(n, Bun.spawn([bin, "-c", file], { stdout: "ignore", stderr: "ignore" }));
  }
});

afterAll(async () => {
  for (const p of [...children, ...nodes.values()]) p.kill("SIGKILL");
  await Promise.all([...children, ...nodes.values()].map((p) => p.exited));
  rmSync(dir, { recursive: true, force: true });
});

test("provision as compose runs it: waits for the cluster, then makes R3 streams and the durable", async () => {
  const healthz = NODES.map((n) => `http://127.0.0.1:${ports[n].http}/healthz`).join(" ");
  const { out, err, code } = await viaEntrypoint(
    ["sh", "-c", `bun deploy/healthcheck.ts --wait 60000 ${healthz} && exec bun cli/main.ts provision`],
    { RUNNERLY_CREDS: join(dir, "creds", "provisioner", "nats.env"), EVENTS_REPLICAS: "3" },
  );
  expect(`${out}${err}`).toContain("stream EVENTS_RUNS: created");
  expect(out).toMatch(/durable EVENTS_RUNS\/\S+: created/);
  expect(code).toBe(0);
  type Jsz = {
    account_details?: { stream_detail?: { name: string; config?: { num_replicas?: number } }[] }[];
  };
  const jsz = (await (await monitor("nats-1", "/jsz?accounts=true&streams=true&config=true")).json()) as Jsz;
  const streams = (jsz.account_details ?? []).flatMap((a) => a.stream_detail ?? []);
  expect(streams.find((s) => s.name === "EVENTS_RUNS")?.config?.num_replicas).toBe(3);
  expect(streams.find((s) => s.name === "EVENTS_STATS")?.config?.num_replicas).toBe(3);
});

test("clients without the generated users' passwords are refused", async () => {
  await expect(connect({ servers: clientUrls, reconnect: false, timeout: 3000 })).rejects.toThrow(
    /Authorization/i,
  );
});

test("a service started from SERVICE and its own creds is healthy; lame duck on its node moves it", async () => {
  const port = await freePort();
  const service = Bun.spawn([entrypoint], {
    cwd: repo,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? dir,
      SERVICE: "runs",
      RUNNERLY_CREDS: join(dir, "creds", "runs", "nats.env"),
      HOST: "127.0.0.1",
      PORT: String(port),
      DATA_DIR: join(dir, "runs-data"),
      EVENTS_REPLICAS: "3",
      LOG_LEVEL: "warn",
      HOSTNAME: "runs-test-1",
    },
    stdout: "ignore",
    stderr: "inherit",
  });
  children.push(service);
  const health = [process.execPath, "deploy/healthcheck.ts", `http://127.0.0.1:${port}/api/runs/healthz`];
  const waited = Bun.spawnSync([...health.slice(0, 2), "--wait", "30000", ...health.slice(2)], { cwd: repo });
  expect(waited.exitCode).toBe(0);

  // Which node holds its connection (named runs-<SERVICE_INSTANCE>, from the container's host name)?
  type Connz = { connections?: { name?: string }[] };
  const holder = async () => {
    for (const n of NODES) {
      const proc = nodes.get(n);
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) continue;
      const connz = (await (await monitor(n, "/connz")).json()) as Connz;
      if (connz.connections?.some((c) => c.name === "runs-runs-test-1")) return n;
    }
    return undefined;
  };
  const first = await waitFor(holder, { timeoutMs: 10_000, what: "the runs connection on a node" });
  const node = nodes.get(first)!;
  node.kill("SIGUSR2");
  // Lame duck: the node closes its clients (after lame_duck_grace_period) and exits by itself.
  await waitFor(() => node.exitCode !== null || node.signalCode !== null, {
    timeoutMs: 45_000,
    intervalMs: 100,
    what: `${first} to leave lame-duck mode and exit`,
  });
  const second = await waitFor(holder, { timeoutMs: 15_000, what: "the runs connection on another node" });
  expect(second).not.toBe(first);
  expect(Bun.spawnSync(health, { cwd: repo }).exitCode).toBe(0);
  service.kill("SIGTERM");
  expect(await service.exited).toBe(0);
});
