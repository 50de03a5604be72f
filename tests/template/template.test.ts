/**
 * `npm create runnerly` as a new user meets it, from packed tarballs: the kit,
 * the edge, the CLI and create-runnerly are packed with `npm pack`; the
 * packed create-runnerly makes a project in a temporary folder outside this
 * repository; the project installs the tarballs (third-party packages from
 * the registry or npm's cache); `runnerly new service second` adds a
 * service and its first contract snapshot; the template's run command (`npm
 * run dev`) starts its own nats-server, both services and the installed
 * edge, which answers 200 for each, and `runnerly ls` run in a service's
 * folder lists both; the process group is stopped by its PID; and the
 * project's own tests (its contract check among them), `npm run contracts --
 * check`, lint and typecheck pass. Nothing the project holds or runs comes
 * from this repository.
 */

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { lstatSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, relative } from "node:path";
import { connect } from "@nats-io/transport-node";
import { runCommand } from "@runnerly/kit/runtime";
import { freePort, meshFetch, NatsServer, natsServerBin, waitFor } from "@runnerly/kit/testing";
import { commandOf, descendants, isAlive, OutputWatcher } from "../../scripts/launcher-testing.ts";
import { type PackedPackage, packPackage } from "../../scripts/pack/pack.ts";
import { type PackageName, REPO_ROOT } from "../../scripts/pack/packages.ts";

setDefaultTimeout(60_000);

const NAMES: PackageName[] = ["kit", "edge", "cli", "create-runnerly"];
const SECOND = "second";

let work: string;
let project: string;
const packed = {} as Record<PackageName, PackedPackage>;

/**
 * The environment of everything run in the project: its own node_modules/.bin
 * first (its Bun, runnerly, drizzle-kit), nothing on PATH from this
 * repository, no NATS_URL (the launcher starts its own nats-server) and no
 * Runnerly settings of the caller.
 */
function projectEnv(extra: Record<string, string> = {}): Record<string, string> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] =>
        e[1] !== undefined && !/^(NATS_URL|NATS_PORT|EDGE_|RUNNERLY_|npm_)/.test(e[0]),
    ),
  );
  const path = (process.env.PATH ?? "").split(delimiter).filter((p) => p && !p.startsWith(REPO_ROOT));
  return {
    ...inherited,
    PATH: [join(project, "node_modules", ".bin"), ...path].join(delimiter),
    NATS_SERVER_BIN: natsServerBin(),
    NO_COLOR: "1",
    ...extra,
  };
}

/** Runs a command to completion; throws with its output when it fails. */
async function run(command: string[], cwd: string, env = projectEnv()): Promise<string> {
  const { code, out, err } = await runCommand(command, { cwd, env });
  if (code !== 0) throw new Error(`${command.join(" ")} exited ${code}:\n${out}\n${err}`.slice(-8000));
  return out + err;
}

/** Files under `dir`, relative to it, leaving out the folders named in `skip`. */
function filesUnder(dir: string, skip: Set<string>, sub = ""): string[] {
  return readdirSync(join(dir, sub)).flatMap((name) => {
    const path = join(sub, name);
    if (skip.has(name)) return [];
    const stat = lstatSync(join(dir, path));
    if (stat.isSymbolicLink()) return [path];
    return stat.isDirectory() ? filesUnder(dir, skip, path) : [path];
  });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "runnerly-template-"));
  const tarballs = join(work, "tarballs");
  // One tsc at a time would take twice as long; four at once share the two cores well enough.
  await Promise.all(NAMES.map(async (name) => (packed[name] = await packPackage(name, tarballs))));
  project = join(work, "my-mesh");
  // About 40 s on two quiet cores; the bound leaves room for a machine busy with other tests.
}, 150_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("a project made by the packed create-runnerly", () => {
  test("npm create runnerly my-mesh (the packed create-runnerly, run by npm) writes the project", async () => {
    expect(relative(REPO_ROOT, work).startsWith("..")).toBe(true);
    const out = await run(
      [
        "npm",
        "exec",
        "--yes",
        `--package=${packed["create-runnerly"].tarball}`,
        "--",
        "create-runnerly",
        "my-mesh",
      ],
      work,
    );
    expect(out).toContain("Created my-mesh");
    expect(readdirSync(join(project, "services"))).toEqual(["greeter"]);
    const manifest = JSON.parse(readFileSync(join(project, "package.json"), "utf8"));
    expect(manifest.scripts).toMatchObject({ dev: "exec runnerly dev", test: "bun test" });
  });

  test("installs the tarballs, and nothing in it points back to this repository", async () => {
    const tarballs = (["kit", "edge", "cli"] as const).map((n) => packed[n].tarball);
    await run(["npm", "install", ...tarballs, "--no-audit", "--no-fund", "--prefer-offline"], project);
    for (const bin of ["bun", "runnerly", "runnerly-edge", "drizzle-kit"]) {
      const target = realpathSync(join(project, "node_modules", ".bin", bin));
      expect({ bin, inside: !relative(project, target).startsWith("..") }).toEqual({ bin, inside: true });
    }
    const skip = new Set([".git", ".data"]);
    const own = filesUnder(project, new Set([...skip, "node_modules"]));
    const runnerly = filesUnder(join(project, "node_modules", "@runnerly"), skip).map((f) =>
      join("node_modules", "@runnerly", f),
    );
    const naming = [...own, ...runnerly].filter((f) => {
      const path = join(project, f);
      return !lstatSync(path).isSymbolicLink() && readFileSync(path, "utf8").includes(REPO_ROOT);
    });
    expect(own).toContain("package-lock.json");
    expect(naming).toEqual([]);
  }, 120_000);

  test("runnerly new service second: its folder and first migration, from the project's drizzle-kit", async () => {
    const out = await run(["runnerly", "new", "service", SECOND], project);
    expect(out).toContain(`created services/${SECOND}/${SECOND}.test.ts`);
    // The template keeps contracts/, so the new service gets its first snapshot there.
    expect(out).toContain(`created contracts/${SECOND}.json`);
    expect(readdirSync(join(project, "contracts")).sort()).toEqual([
      "contracts.test.ts",
      "greeter.json",
      `${SECOND}.json`,
    ]);
    // Named like its sibling greeter: no @runnerly scope in a project of one's own.
    const manifest = JSON.parse(readFileSync(join(project, "services", SECOND, "package.json"), "utf8"));
    expect(manifest.name).toBe(SECOND);
    expect(
      readdirSync(join(project, "services", SECOND, "drizzle")).filter((f) => f.endsWith(".sql")),
    ).toEqual(["0000_init.sql"]);
  });

  test("npm run build (runnerly build) bundles both services and the edge, and greeter's bundle registers on NATS and answers", async () => {
    const out = await run(["npm", "run", "build"], project);
    expect(out).toContain("✔ greeter → dist/greeter/main.js");
    expect(out).toContain(`✔ ${SECOND} → dist/${SECOND}/main.js`);
    // And the project's installed edge, with its worker process's entry beside it.
    expect(out).toContain("✔ edge → dist/edge/main.js");
    expect(out).toContain("beside it: adapters/bun/worker.js");
    const nats = await NatsServer.start();
    const nc = await connect({ servers: nats.url });
    const proc = Bun.spawn(
      [join(project, "node_modules", ".bin", "bun"), join("dist", "greeter", "main.js")],
      {
        cwd: project,
        env: projectEnv({ NATS_URL: nats.url, DATA_DIR: join(work, "greeter-bundle-data"), PORT: "0" }),
        stdout: "ignore",
        stderr: "inherit",
      },
    );
    try {
      const res = await waitFor(
        async () => {
          if (proc.exitCode !== null) throw new Error(`greeter's bundle exited ${proc.exitCode}`);
          const r = await meshFetch(nc, "greeter", "/api/greeter/healthz", { timeoutMs: 1000 });
          return r.status === 200 ? r : null;
        },
        { timeoutMs: 20_000, what: "greeter's bundle answering /healthz over NATS" },
      );
      expect(res.status).toBe(200);
    } finally {
      proc.kill("SIGKILL");
      await proc.exited;
      await nc.close();
      await nats.stop();
    }
  });

  test("npm run dev starts nats-server, both services and the edge, which answers 200 for each", async () => {
    const [edgePort, natsPort] = [await freePort(), await freePort()];
    const edge = `http://127.0.0.1:${edgePort}`;
    // Its own process group, so that one signal to -pid reaches npm, its shell and the launcher.
    const proc = Bun.spawn(["npm", "run", "dev"], {
      cwd: project,
      env: projectEnv({ EDGE_PORT: String(edgePort), NATS_PORT: String(natsPort), EDGE_WORKERS: "1" }),
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      detached: true,
    });
    const output = new OutputWatcher([proc.stdout, proc.stderr]);
    let started: number[] = [];
    try {
      await output.waitFor(/✔ Runnerly ready — edge http:\/\/127\.0\.0\.1:\d+/, 60_000);
      started = descendants(proc.pid);
      const commands = started.map(commandOf);
      for (const part of [
        "nats-server",
        "services/greeter/main.ts",
        `services/${SECOND}/main.ts`,
        "@runnerly/edge/main.ts",
      ])
        expect(commands).toContainEqual(expect.stringContaining(part));
      // What runs is the project's: its Bun, its packages.
      expect(commands.filter((c) => c.includes(REPO_ROOT))).toEqual([]);

      const greeted = await fetch(`${edge}/api/greeter/hello?name=template`);
      expect({ status: greeted.status, body: await greeted.json() }).toEqual({
        status: 200,
        body: { message: "Hello, template!", name: "template", times: 1 },
      });
      const second = await fetch(`${edge}/api/${SECOND}/healthz`);
      await second.body?.cancel();
      expect(second.status).toBe(200);
      const notes = await fetch(`${edge}/api/${SECOND}/notes`);
      await notes.body?.cancel();
      expect(notes.status).toBe(401);

      // The installed runnerly, from a service's folder, finds the project and its dev stack's operator.
      const listed = await run(["runnerly", "ls"], join(project, "services", "greeter"));
      expect(listed).toMatch(/^greeter\s+1\s/m);
      expect(listed).toMatch(new RegExp(`^${SECOND}\\s+1\\s`, "m"));

      process.kill(-proc.pid, "SIGTERM");
      await output.waitFor(/^› stopped$/, 30_000);
      expect(await proc.exited).toBe(0);
      await waitFor(() => started.every((pid) => !isAlive(pid)), {
        timeoutMs: 5_000,
        what: "every process npm run dev started to end",
      });
    } finally {
      for (const pid of [...started, proc.pid].filter(isAlive)) process.kill(pid, "SIGKILL");
    }
  }, 100_000);

  test("its own tests pass (bun test) with its contract check, and so do its lint and typecheck", async () => {
    const out = await run(["npm", "test"], project);
    expect(out).toContain(" 0 fail");
    expect(out).toContain("contracts/contracts.test.ts");
    expect(out).toContain("Ran 4 tests across 3 files");
    // The project's contracts command: both services compared with their snapshots, nothing breaks.
    const checked = await run(["npm", "run", "contracts", "--", "check"], project);
    expect(checked).toContain(`✔ greeter: unchanged\n✔ ${SECOND}: unchanged\ncontracts: no breaking change`);
    expect(await run(["npm", "run", "lint"], project)).not.toContain("Found");
    await run(["npm", "run", "typecheck"], project);
  });
});
