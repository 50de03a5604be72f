/**
 * Where the Deno and workerd executables are (Bun/Node tooling, not edge code).
 * Both come from npm (devDependencies `deno` and `workerd`) as a per-platform
 * optional package holding the binary. Their postinstall only copies that
 * binary into place, and npm may not run it, so the platform package is
 * looked up directly: the result is the real executable, never a node
 * wrapper script, so the process started is the one whose PID we stop.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { arch, platform } from "node:os";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);

// The platform packages each one publishes, keyed by `${platform} ${arch}`.
const DENO_PACKAGES: Record<string, string> = {
  "linux x64": "@deno/linux-x64-glibc",
  "linux arm64": "@deno/linux-arm64-glibc",
  "darwin x64": "@deno/darwin-x64",
  "darwin arm64": "@deno/darwin-arm64",
  "win32 x64": "@deno/win32-x64",
  "win32 arm64": "@deno/win32-arm64",
};
const WORKERD_PACKAGES: Record<string, string> = {
  "linux x64": "@cloudflare/workerd-linux-64",
  "linux arm64": "@cloudflare/workerd-linux-arm64",
  "darwin x64": "@cloudflare/workerd-darwin-64",
  "darwin arm64": "@cloudflare/workerd-darwin-arm64",
  "win32 x64": "@cloudflare/workerd-windows-64",
};

/** Thrown when a runtime's binary is not installed; the message says how to install it. */
export class MissingBinaryError extends Error {
  constructor(runtime: string, pkg: string) {
    super(
      `${runtime} is not installed: run \`npm install\` at the repository root ` +
        `(devDependency "${pkg}", which brings the binary for this platform).`,
    );
    this.name = "MissingBinaryError";
  }
}

/**
 * The Deno executable, or `DENO_BIN` when set.
 *
 * @example
 * Bun.spawn([denoBinary(), "serve", "edge/adapters/deno/deno.ts"]);
 */
export function denoBinary(): string {
  const exe = platform() === "win32" ? "deno.exe" : "deno";
  return fromEnvOrPackage("Deno", "deno", "DENO_BIN", [
    () => join(packageDir("deno"), exe),
    () => join(packageDir(DENO_PACKAGES[`${platform()} ${arch()}`]), exe),
  ]);
}

/**
 * The workerd executable, or `WORKERD_BIN` when set.
 *
 * @example
 * Bun.spawn([workerdBinary(), "serve", "config.capnp"]);
 */
export function workerdBinary(): string {
  const exe = platform() === "win32" ? "workerd.exe" : "workerd";
  return fromEnvOrPackage("workerd", "workerd", "WORKERD_BIN", [
    () => join(packageDir(WORKERD_PACKAGES[`${platform()} ${arch()}`]), "bin", exe),
  ]);
}

function fromEnvOrPackage(
  runtime: string,
  pkg: string,
  envKey: string,
  candidates: (() => string)[],
): string {
  const fromEnv = process.env[envKey];
  if (fromEnv) {
    if (existsSync(fromEnv)) return fromEnv;
    throw new Error(`${runtime}: ${envKey} is set to ${fromEnv}, which does not exist.`);
  }
  for (const candidate of candidates) {
    try {
      const path = candidate();
      if (existsSync(path)) return path;
    } catch {
      // package not installed (or no package for this platform): try the next
    }
  }
  throw new MissingBinaryError(runtime, pkg);
}

function packageDir(name: string | undefined): string {
  if (!name) throw new Error("no package for this platform");
  return dirname(require.resolve(`${name}/package.json`));
}
