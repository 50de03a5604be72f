/**
 * `runnerly build`: the runs service bundled outside the repository (no
 * node_modules above it) starts from its bundle, migrates its store with its
 * own and the kit's migrations, serves, imports a GPX file on a worker thread
 * from the bundled worker, and exports spans through the bundled
 * OpenTelemetry SDK. Against a real nats-server and a real SQLite file.
 */

import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { Svcm } from "@nats-io/services";
import { connect } from "@nats-io/transport-node";
import { freePort, meshFetch, NatsServer, waitFor } from "@runnerly/kit/testing";
import type { Subprocess } from "bun";

const root = join(import.meta.dir, "..");
const cli = join(root, "cli", "main.ts");

function runCli(args: string[], cwd = root) {
  const out = Bun.spawnSync([process.execPath, cli, ...args], { cwd, env: process.env });
  return { code: out.exitCode, stdout: out.stdout.toString(), stderr: out.stderr.toString() };
}

/**
 * Starts `SERVICE` in `project` as the image does (deploy/entrypoint.sh, which
 * runs dist/<SERVICE>/main.js when it is there), its output in a log file.
 */
function startThroughEntrypoint(project: string, service: string, env: Record<string, string>) {
  const logFile = join(project, `${service}.log`);
  const proc = Bun.spawn([join(root, "deploy", "entrypoint.sh")], {
    cwd: project,
    env: {
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      SERVICE: service,
      LOG_LEVEL: "info",
      ...env,
    },
    stdout: Bun.file(logFile),
    stderr: Bun.file(logFile),
  });
  const logs = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  /** Waits (bounded) for `check`; fails at once if the process exits, with its output either way. */
  const until = <T>(check: () => Promise<T>, what: string) =>
    waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`${service} exited ${proc.exitCode}`);
        return check();
      },
      { timeoutMs: 15_000, what },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${logs()}`);
    });
  return { proc, logs, until };
}

describe("runnerly build", () => {
  let project: string;
  let out: string;
  let built: ReturnType<typeof runCli>;
  let nats: NatsServer;
  let nc: NatsConnection;
  let proc: Subprocess | null = null;
  const exports: string[] = [];
  let receiver: ReturnType<typeof Bun.serve> | null = null;

  beforeAll(async () => {
    // Built in one folder, then moved: what the bundle reads, it finds beside itself.
    const builtIn = mkdtempSync(join(tmpdir(), "runnerly-build-"));
    built = runCli(["build", "runs", "--out", join(builtIn, "dist")]);
    project = `${builtIn}-moved`;
    renameSync(builtIn, project);
    out = join(project, "dist");
    nats = await NatsServer.start();
    nc = await connect({ servers: nats.url });
    // An OTLP/HTTP endpoint that keeps what is exported to it.
    receiver = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (req) => {
        exports.push(await req.text());
        return new Response("{}", { headers: { "content-type": "application/json" } });
      },
    });
  });

  afterAll(async () => {
    proc?.kill("SIGKILL");
    await proc?.exited;
    await receiver?.stop(true);
    await nc?.close();
    await nats?.stop();
    rmSync(project, { recursive: true, force: true });
  });

  test("writes the bundle, its bytecode, the migrations and the worker beside it", () => {
    expect(built.stderr).toBe("");
    expect(built.code).toBe(0);
    expect(built.stdout).toContain("✔ runs");
    for (const file of [
      "runs/main.js",
      "runs/main.js.jsc",
      "runs/drizzle/meta/_journal.json",
      "drizzle/meta/_journal.json",
      "runs/gpx-worker.js",
    ]) {
      expect(existsSync(join(out, file))).toBe(true);
    }
    expect(existsSync(join(out, "accounts"))).toBe(false);
    // No module of the bundle looks for files by its source's place.
    expect(readFileSync(join(out, "runs", "main.js"), "utf8")).not.toContain(`file://${root}`);
  });

  test("the image's entry point starts the bundle, with no node_modules around it; it migrates, serves, works GPX on a thread and exports spans", async () => {
    expect(existsSync(join(project, "node_modules"))).toBe(false);
    const dataDir = join(project, "data");
    mkdirSync(dataDir);
    const started = startThroughEntrypoint(project, "runs", {
      NATS_URL: nats.url,
      DATA_DIR: dataDir,
      PORT: "0",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver?.port}`,
      OTEL_BSP_SCHEDULE_DELAY: "50",
    });
    proc = started.proc;
    const { logs } = started;
    await started.until(async () => {
      for await (const _ of await new Svcm(nc).client().ping("runs")) return true;
      return false;
    }, "the bundled runs service registered");
    expect(logs()).toContain("service ready");

    // Its store has the service's tables and the kit's (both migrations folders were found).
    const db = new Database(join(dataDir, "runs.db"), { readonly: true });
    const tables = db
      .query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((t) => t.name);
    db.close();
    expect(tables).toContain("runs");
    expect(tables).toContain("_mesh_outbox");

    const created = await meshFetch(nc, "runs", "/api/runs/runs", {
      method: "POST",
      user: "bundled",
      json: { distanceM: 1000, durationS: 400, startedAt: "2026-11-01T07:00:00Z" },
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };

    // A GPX file, parsed by the worker module bundled beside the service.
    const points = Array.from({ length: 50 }, (_, i) => {
      const t = new Date(Date.parse("2026-11-01T07:00:00Z") + i * 10_000).toISOString();
      return `<trkpt lat="${(51.5 + i * 0.0003).toFixed(5)}" lon="-0.12"><time>${t}</time></trkpt>`;
    });
    const gpx = `<?xml version="1.0"?><gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>${points.join("")}</trkseg></trk></gpx>`;
    const form = new FormData();
    form.append("file", new File([gpx], "run.gpx", { type: "application/gpx+xml" }));
    const req = new Request("http://x", { method: "PUT", body: form });
    const contentType = req.headers.get("content-type") as string;
    const imported = await meshFetch(nc, "runs", `/api/runs/runs/${id}/gpx`, {
      method: "PUT",
      user: "bundled",
      body: new Uint8Array(await req.arrayBuffer()),
      headers: { "content-type": contentType },
    });
    expect(imported.status).toBe(200);
    const run = (await imported.json()) as { source: string; distanceM: number };
    expect(run.source).toBe("gpx");
    expect(run.distanceM).toBeGreaterThan(1500);

    // The OpenTelemetry SDK and its OTLP exporter came with the bundle.
    await waitFor(() => exports.some((body) => body.includes('"runs"') && body.includes("PUT")), {
      timeoutMs: 10_000,
      what: "spans of the bundled service exported",
    });
  }, 30_000);
});

describe("runnerly build edge", () => {
  test("the edge and its worker process start from their bundles through the image's entry point", async () => {
    const builtIn = mkdtempSync(join(tmpdir(), "runnerly-build-edge-"));
    const built = runCli(["build", "edge", "--out", join(builtIn, "dist")]);
    const project = `${builtIn}-moved`;
    renameSync(builtIn, project);
    const nats = await NatsServer.start();
    let proc: Subprocess | null = null;
    try {
      expect(built.stderr).toBe("");
      expect(built.code).toBe(0);
      expect(built.stdout).toContain("✔ edge");
      expect(existsSync(join(project, "dist", "edge", "adapters", "bun", "worker.js"))).toBe(true);
      const port = await freePort();
      const started = startThroughEntrypoint(project, "edge", {
        NATS_URL: nats.url,
        EDGE_HOST: "127.0.0.1",
        EDGE_PORT: String(port),
        EDGE_WORKERS: "1",
        EDGE_AUTH: "off",
      });
      proc = started.proc;
      const { logs } = started;
      const res = await started.until(async () => {
        const r = await fetch(`http://127.0.0.1:${port}/healthz`);
        return r.status === 200 ? r : null;
      }, "the bundled edge answering /healthz");
      expect(res.status).toBe(200);
      // The supervisor says which worker it started; that process runs the bundled worker.
      const listening = logs()
        .split("\n")
        .filter((line) => line.includes("edge listening"))
        .map((line) => JSON.parse(line) as { pids: number[] })[0];
      const pid = listening?.pids[0];
      expect(pid).toBeNumber();
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      expect(cmdline).toContain(join(project, "dist", "edge", "adapters", "bun", "worker.js"));
    } finally {
      proc?.kill("SIGTERM");
      await proc?.exited;
      await nats.stop();
      rmSync(project, { recursive: true, force: true });
    }
  }, 30_000);
});

describe("runnerly build refuses", () => {
  test("a service name that is not there, naming those that are", () => {
    const r = runCli(["build", "nope", "--out", join(tmpdir(), "runnerly-build-never")]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("no service nope");
    expect(r.stderr).toContain("runs");
  });

  /** A project of one service `one` whose main.ts is `code`; what `runnerly build` says of it. */
  function buildOne(code: string) {
    const project = mkdtempSync(join(tmpdir(), "runnerly-build-refused-"));
    try {
      mkdirSync(join(project, "services", "one"), { recursive: true });
      writeFileSync(join(project, "package.json"), '{"name":"p","private":true}\n');
      writeFileSync(join(project, "services", "one", "main.ts"), code);
      return runCli(["build", "--out", join(project, "dist")], project);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  }

  test("a file named by new URL(…, import.meta.url) that is not there", () => {
    const r = buildOne(
      '// new URL("./only-in-a-comment", import.meta.url) is not a reference\nconsole.log(new URL("./seeds", import.meta.url).pathname);\n',
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("✘ one:");
    expect(r.stderr).toContain('new URL("./seeds", import.meta.url) names');
    expect(r.stderr).toContain("which is not there");
    expect(r.stderr).not.toContain("only-in-a-comment");
  });

  test("a file named by new URL(…, import.meta.url) that would land outside the output folder", () => {
    const r = buildOne('console.log(new URL("../../../etc/data", import.meta.url).pathname);\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("points outside");
  });

  test("a main.ts with top-level await, saying what to write instead", () => {
    const r = buildOne("await Promise.resolve(1);\nconsole.log('started');\n");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("✘ one");
    expect(r.stderr).toContain("void runService(service)");
  });
});
