/**
 * `runnerly new service`: the generated files are formatted as `npm run lint`
 * wants them for every name length; in a project folder shaped like this
 * repository the service gets its contract snapshot and its compose.yml
 * entry, passes its own test and is routed by the edge.
 * tests/scaffold/ does the same inside a copy of the whole repository.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { silentLogger } from "@runnerly/kit";
import { NatsServer, waitFor } from "@runnerly/kit/testing";
import type { Subprocess } from "bun";
import { createEdge, type Edge } from "../edge/app.ts";
import { composeWithService, serviceFiles } from "./scaffold.ts";

setDefaultTimeout(90_000);

const root = join(import.meta.dir, "..");
// Inside the repository (so @runnerly/kit resolves), in the git-ignored data dir.
const project = join(root, ".data", `scaffold-${process.pid}`);
const servicesDir = join(project, "services");
const biome = join(root, "node_modules", ".bin", "biome");

afterAll(() => rmSync(project, { recursive: true, force: true }));

describe("generated files", () => {
  test("pass biome (format, lint, import order) as written, for every length of name", () => {
    const out = join(project, "format");
    const names = Array.from({ length: 31 }, (_, i) => "abcdefghij".repeat(4).slice(0, i + 1));
    for (const name of [...names, "a-b", "x-1-y-2-z", `${"n-".repeat(15)}n`]) {
      for (const [path, text] of Object.entries(serviceFiles(name))) {
        mkdirSync(join(out, name, path, ".."), { recursive: true });
        writeFileSync(join(out, name, path), text);
      }
    }
    // .data/ is git-ignored, which biome honours unless told not to.
    const check = Bun.spawnSync([biome, "check", "--vcs-use-ignore-file=false", out], {
      cwd: root,
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(check.stderr.toString() + check.stdout.toString()).toContain("Checked 272 files");
    expect(check.exitCode).toBe(0);
  });
});

describe("compose.yml", () => {
  const compose = readFileSync(join(root, "compose.yml"), "utf8");

  test("gains the service with two replicas, its creds, its data volume and a health check", () => {
    const added = composeWithService(compose, "notes-demo")!;
    const lines = (text: string) => new Set(text.split("\n"));
    const before = lines(compose);
    const gained = [...lines(added)].filter((l) => !before.has(l));
    expect(gained).toEqual([
      "      - creds-notes-demo:/creds/notes-demo",
      "  notes-demo:",
      "      SERVICE: notes-demo",
      '      test: ["CMD", "bun", "deploy/healthcheck.ts", "http://127.0.0.1:8080/api/notes-demo/healthz"]',
      "      - creds-notes-demo:/run/secrets/nats:ro",
      "      - notes-demo-data:/var/lib/runnerly",
      "  creds-notes-demo:",
      "  notes-demo-data:",
    ]);
    const parsed = Bun.YAML.parse(added) as {
      services: Record<string, { deploy?: { replicas: number }; volumes?: string[] }>;
      volumes: Record<string, unknown>;
    };
    expect(parsed.services["notes-demo"]?.deploy?.replicas).toBe(2);
    expect(parsed.services["nats-auth"]?.volumes).toContain("creds-notes-demo:/creds/notes-demo");
    expect(Object.keys(parsed.volumes)).toEqual(
      expect.arrayContaining(["creds-notes-demo", "notes-demo-data"]),
    );
    expect(Object.keys(parsed.services).at(-3)).toBe("notes-demo"); // before the edge and the tools
  });

  test("is left as it is when the service is there, and refused when it has another shape", () => {
    const added = composeWithService(compose, "notes-demo")!;
    expect(composeWithService(added, "notes-demo")).toBe(added);
    expect(composeWithService("services:\n  web:\n    image: x\n", "notes-demo")).toBeNull();
  });
});

describe("runnerly new service, in a project folder", () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let proc: Subprocess | null = null;
  let edge: Edge | null = null;

  beforeAll(async () => {
    mkdirSync(servicesDir, { recursive: true });
    mkdirSync(join(project, "contracts"), { recursive: true });
    copyFileSync(join(root, "compose.yml"), join(project, "compose.yml"));
    nats = await NatsServer.start();
    nc = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    proc?.kill("SIGTERM");
    await proc?.exited;
    await edge?.close();
    await nc?.close();
    await nats?.stop();
  });

  const runnerly = (...args: string[]) =>
    Bun.spawnSync([process.execPath, join(root, "cli", "main.ts"), ...args], {
      cwd: project,
      stdout: "pipe",
      stderr: "pipe",
    });

  test("scaffolded with its contract and compose entry, its own test passes, the edge routes it", async () => {
    const made = runnerly("new", "service", "notes-demo", "--dir", "services");
    expect(made.stderr.toString()).toBe("");
    expect(made.exitCode).toBe(0);
    const said = made.stdout.toString();
    expect(said).toContain("created services/notes-demo/routes.ts");
    expect(said).toContain("created contracts/notes-demo.json");
    expect(said).toContain("added notes-demo to compose.yml");
    expect(said).toContain("curl -i http://127.0.0.1:8787/api/notes-demo/healthz");
    expect(said).toContain(
      "git add services/notes-demo contracts/notes-demo.json compose.yml package-lock.json",
    );
    const dir = join(servicesDir, "notes-demo");

    const snapshot = JSON.parse(readFileSync(join(project, "contracts", "notes-demo.json"), "utf8"));
    expect(snapshot).toMatchObject({ service: "notes-demo", version: "0.1.0" });
    expect(Object.keys(snapshot.openapi.paths)).toContain("/api/notes-demo/notes");
    expect(readFileSync(join(project, "compose.yml"), "utf8")).toContain("      SERVICE: notes-demo\n");

    const own = Bun.spawnSync([process.execPath, "test", "--timeout", "30000"], {
      cwd: dir,
      stdout: "pipe",
      stderr: "pipe",
    });
    const ownOutput = own.stdout.toString() + own.stderr.toString();
    expect(ownOutput).toContain("1 pass");
    expect(own.exitCode).toBe(0);

    proc = Bun.spawn([process.execPath, join(dir, "main.ts")], {
      env: { ...process.env, NATS_URL: nats.url, DATA_DIR: join(project, "data"), LOG_LEVEL: "warn" },
      stdout: "inherit",
      stderr: "inherit",
    });
    edge = createEdge({ nc, logger: silentLogger });
    await edge.ready;
    await waitFor(() => edge?.routes.match("/api/notes-demo/notes")?.instances.length, {
      timeoutMs: 15_000,
      what: "the new service routed",
    });
    const health = await edge.app.request("/api/notes-demo/healthz");
    expect(health.status).toBe(200);
    expect(((await health.json()) as { service: string }).service).toBe("notes-demo");
    expect((await edge.app.request("/api/notes-demo/notes")).status).toBe(401);
  });

  test("a second time it refuses, and a bad name is refused before anything is written", () => {
    const again = runnerly("new", "service", "notes-demo", "--dir", "services");
    expect(again.exitCode).toBe(1);
    expect(again.stderr.toString()).toContain("already exists");
    const bad = runnerly("new", "service", "Notes", "--dir", "services");
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr.toString()).toContain('"Notes" is not a service name');
  });
});
