#!/usr/bin/env node
/**
 * Entry point of `npm run dev` and `npm test`: makes a fresh machine with only
 * Node and npm ready, then hands over to Bun.
 *
 *   node scripts/bootstrap.mjs dev  [args...]   → bun scripts/dev.ts [args...]
 *   node scripts/bootstrap.mjs single [args...] → bun scripts/single.ts [args...] (all in one process)
 *   node scripts/bootstrap.mjs test [args...]   → bun test [args...]
 *   node scripts/bootstrap.mjs bench [args...]  → bun bench/run.ts [args...]
 *
 * Steps: check the Node version (below 20 it stops, below 22.15 it warns that
 * npm will print engine warnings; both say what to install); install npm
 * dependencies when they are missing or older than the lockfile (this also
 * installs Bun, a devDependency); make sure the system
 * programs the mode needs are present (apt-get when running as root); run the
 * Bun command with inherited stdio, forwarding signals and its exit status.
 *
 * Plain Node ESM with no dependencies: it runs before anything is installed.
 */
import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, statSync, utimesSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/**
 * Node versions. This script and npm, which installs everything (Bun too),
 * need Node 20 or newer. Some dependencies' `engines` ask for more: OpenTelemetry 3 and its exporter
 * for ≥ 22.15, cockatiel 4, @nats-io/nuid 3, moleculer and @axe-core/playwright
 * for ≥ 22. Below 22.15 `npm ci` prints EBADENGINE warnings for them and
 * installs them all the same; they work, since they run on Bun, not on Node.
 */
const NODE_REQUIRED = [20, 0, 0];
const NODE_WARNING_FREE = [22, 15, 0];

/**
 * System programs each mode needs. `env` names the variable that may point at
 * the binary (it is also passed on to Bun, so tests find a binary that is not
 * on PATH); `apt` is the Debian package that provides it, `elsewhere` where to
 * get it on other systems; `skip` says when the program is not needed. Add an entry here to require another package.
 */
const systemPrograms = [
  {
    bin: "nats-server",
    env: "NATS_SERVER_BIN",
    apt: "nats-server",
    modes: ["dev", "single", "test", "bench"],
    elsewhere: "https://docs.nats.io/running-a-nats-service/introduction/installation",
    skip: (mode) => (mode === "dev" || mode === "single") && Boolean(process.env.NATS_URL),
  },
  {
    // The benchmark's HTTP load generator.
    bin: "wrk",
    env: "WRK_BIN",
    apt: "wrk",
    modes: ["bench"],
    elsewhere: "https://github.com/wg/wrk",
    skip: () => false,
  },
  {
    // The web page's journey test drives a real headless Chromium (playwright-core).
    bin: "chromium",
    env: "CHROMIUM_BIN",
    apt: "chromium",
    modes: ["test"],
    elsewhere: "https://www.chromium.org/getting-involved/download-chromium/",
    skip: () => false,
  },
  {
    // deploy/compose.test.ts checks compose.yml with `docker-compose config` (no Docker engine needed).
    bin: "docker-compose",
    env: "DOCKER_COMPOSE_BIN",
    apt: "docker-compose",
    modes: ["test"],
    elsewhere: "https://docs.docker.com/compose/install/",
    skip: () => false,
  },
];

const commands = {
  dev: (args) => ["scripts/dev.ts", ...args],
  // The edge runs inside this one process: Bun's header limit must sit above the edge's (as for test).
  single: (args) => ["--max-http-header-size=65536", "scripts/single.ts", ...args],
  // Integration tests start real servers; 5 s (Bun's default) is tight on 2 cores.
  // Bun's own header limit (16 KiB with the request line) would answer 431 before the
  // edge's problem+json; the edge enforces its limits itself (EDGE_MAX_HEADER_BYTES).
  test: (args) => ["--max-http-header-size=65536", "test", "--timeout", "30000", ...args],
  bench: (args) => ["bench/run.ts", ...args],
};

checkNode(process.versions.node);
const [mode, ...args] = process.argv.slice(2);
if (!mode || !(mode in commands)) {
  fail(`usage: node scripts/bootstrap.mjs <${Object.keys(commands).join("|")}> [args...]`);
}

ensureDependencies();
const env = { ...process.env, ...ensureSystemPrograms(mode) };
// The one-process launcher is itself the server: it starts with the kit's allocator setting
// (shared/runtime/allocator.ts, ALLOCATOR_ENV) unless the environment sets its own. The dev
// launcher gives it to each process it starts.
if (mode === "single" && env.MIMALLOC_PURGE_DELAY === undefined) env.MIMALLOC_PURGE_DELAY = "-1";
const bun = join(root, "node_modules", ".bin", "bun");
if (!isExecutable(bun)) fail(`${bun} is missing after installing dependencies; run \`npm ci\` and retry.`);
step(`bun ${commands[mode](args).join(" ")}`);
run(bun, commands[mode](args), env);

/** Stops below NODE_REQUIRED, warns below NODE_WARNING_FREE; either way says what to install. */
function checkNode(version) {
  const current = version.split(".").map(Number);
  const below = (wanted) => {
    for (let i = 0; i < 3; i++) if (current[i] !== wanted[i]) return current[i] < wanted[i];
    return false;
  };
  const get = "install Node 22.15 or newer (`nvm install 22`, or https://nodejs.org/en/download)";
  if (below(NODE_REQUIRED)) fail(`Node ${version} is too old: Runnerly needs Node ≥ 20; ${get}.`);
  if (below(NODE_WARNING_FREE)) {
    warn(
      `Node ${version}: npm prints EBADENGINE warnings while installing, for dependencies that ask for ` +
        `Node ≥ 22 (they run on Bun and work). For an install without warnings, ${get}.`,
    );
  } else {
    step(`node ${version}`);
  }
}

function ensureDependencies() {
  const lock = join(root, "package-lock.json");
  const installed = join(root, "node_modules", ".package-lock.json");
  const hasLock = existsSync(lock);
  const fresh = existsSync(installed) && (!hasLock || mtime(lock) <= mtime(installed));
  if (fresh) return step("dependencies up to date");
  const npmArgs = hasLock ? ["ci"] : ["install"];
  step(`installing dependencies (npm ${npmArgs[0]})…`);
  const npmCli = process.platform === "win32" ? "npm.cmd" : "npm";
  const result = spawnSync(npmCli, npmArgs, { cwd: root, stdio: "inherit" });
  if (result.status !== 0) fail(`npm ${npmArgs[0]} failed (exit ${result.status ?? result.signal}).`);
  // npm may write package-lock.json a moment after its record of what it
  // installed; mark the install as current so the next run does not redo it.
  if (existsSync(installed)) {
    const now = new Date();
    utimesSync(installed, now, now);
  }
}

/** Returns env entries pointing at each program found, installing what is missing when root. */
function ensureSystemPrograms(mode) {
  const needed = systemPrograms.filter((p) => p.modes.includes(mode) && !p.skip(mode));
  const missing = needed.filter((p) => !findProgram(p));
  if (missing.length > 0) {
    const packages = missing.map((p) => p.apt);
    if (process.getuid?.() !== 0 || findOnPath("apt-get") === null) {
      const lines = [
        `${missing.map((p) => p.bin).join(", ")} not found. On Debian/Ubuntu install with:`,
        `    sudo apt-get update && sudo apt-get install -y ${packages.join(" ")}`,
        ...missing.map((p) => `  elsewhere see ${p.elsewhere}, or set ${p.env}=/path/to/${p.bin}`),
      ];
      if ((mode === "dev" || mode === "single") && missing.some((p) => p.bin === "nats-server"))
        lines.push("  or set NATS_URL=nats://host:4222 to use a running server.");
      fail(lines.join("\n"));
    }
    step(`installing ${packages.join(" ")} (apt-get)…`);
    const aptEnv = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    for (const aptArgs of [["update"], ["install", "-y", "--no-install-recommends", ...packages]]) {
      const r = spawnSync("apt-get", aptArgs, { stdio: "inherit", env: aptEnv });
      if (r.status !== 0) fail(`apt-get ${aptArgs.join(" ")} failed (exit ${r.status ?? r.signal}).`);
    }
  }
  const found = {};
  for (const p of needed) {
    const path = findProgram(p);
    if (!path) fail(`${p.bin} is still missing after installing ${p.apt}.`);
    if (missing.length === 0) step(`${p.bin}: ${path}`);
    found[p.env] = path;
  }
  return found;
}

/** The program's path: from its env variable, PATH, or the sbin folders (not on a user's PATH on Debian). */
function findProgram(program) {
  const fromEnv = process.env[program.env];
  if (fromEnv)
    return isExecutable(fromEnv) ? fromEnv : fail(`${program.env}=${fromEnv} is not an executable.`);
  return (
    findOnPath(program.bin) ??
    ["/usr/sbin", "/usr/local/sbin", "/sbin"].map((d) => join(d, program.bin)).find(isExecutable) ??
    null
  );
}

function findOnPath(bin) {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && isExecutable(join(dir, bin))) return join(dir, bin);
  }
  return null;
}

/** Runs the command as a child and exits with its status; signals sent to us are passed on. */
function run(command, commandArgs, childEnv) {
  const child = spawn(command, commandArgs, { cwd: root, stdio: "inherit", env: childEnv });
  const forward = (signal) => child.kill(signal);
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of signals) process.on(s, forward);
  child.on("error", (err) => fail(`cannot start ${command}: ${err.message}`));
  child.on("exit", (code, signal) => {
    for (const s of signals) process.off(s, forward);
    process.exit(code ?? 128 + (osConstants.signals[signal] ?? 1));
  });
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function mtime(path) {
  return statSync(path).mtimeMs;
}

function step(text) {
  console.log(`› ${text}`);
}

function warn(message) {
  console.error(`! ${message}`);
}

function fail(message) {
  console.error(`✘ ${message}`);
  process.exit(1);
}
