/**
 * What the deployment tests share: the NATS node configs as compose mounts
 * them, the same configs moved onto loopback ports for real processes, and
 * the users written by deploy/nats-auth.ts, and running a command for its output.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const NODES = ["nats-1", "nats-2", "nats-3"] as const;
export type NodeName = (typeof NODES)[number];

const deployDir = import.meta.dir;

/** deploy/nats/<name>.conf as compose and the systemd units use it. */
export function nodeConfig(name: string): string {
  return readFileSync(join(deployDir, "nats", `${name}.conf`), "utf8");
}

/** Ports of one node on loopback: clients, monitoring, routes. */
export type NodePorts = { client: number; http: number; cluster: number };

/**
 * A node's config with every address moved to loopback ports and the store
 * to `storeDir`; nothing else changes. `withoutSyncInterval` drops the one
 * line a nats-server older than 2.10 refuses.
 */
export function loopbackConfig(
  name: NodeName,
  ports: Record<NodeName, NodePorts>,
  storeDir: string,
  withoutSyncInterval: boolean,
): string {
  const own = ports[name];
  let text = nodeConfig(name)
    .replace(/^listen: 0\.0\.0\.0:4222$/m, `listen: 127.0.0.1:${own.client}`)
    .replace(/^http: 0\.0\.0\.0:8222$/m, `http: 127.0.0.1:${own.http}`)
    .replace(/^(\s*)listen: 0\.0\.0\.0:6222$/m, `$1listen: 127.0.0.1:${own.cluster}`)
    .replace(
      /nats-route:\/\/(nats-\d):6222/g,
      (_, node: NodeName) => `nats-route://127.0.0.1:${ports[node].cluster}`,
    )
    .replace(/^(\s*)store_dir: .*$/m, `$1store_dir: ${JSON.stringify(storeDir)}`);
  if (withoutSyncInterval) text = text.replace(/^\s*sync_interval: always\n/m, "");
  return text;
}

/** nats-server: NATS_SERVER_BIN, PATH, or Debian's /usr/sbin (not on a user's PATH). */
export function natsServerBinary(): string {
  const bin =
    process.env.NATS_SERVER_BIN ||
    Bun.which("nats-server") ||
    ["/usr/sbin/nats-server", "/usr/local/sbin/nats-server"].find((p) => existsSync(p));
  if (!bin) throw new Error("nats-server not found: apt-get install nats-server, or set NATS_SERVER_BIN");
  return bin;
}

/** True when this nats-server refuses `sync_interval` (before 2.10; Debian bookworm has 2.9.10). */
export function lacksSyncInterval(bin: string): boolean {
  const out = Bun.spawnSync([bin, "--version"]).stdout.toString();
  const m = /v?(\d+)\.(\d+)\./.exec(out);
  return m ? Number(m[1]) === 2 && Number(m[2]) < 10 : false;
}

/** Runs deploy/nats-auth.ts as compose's nats-auth step does; throws with its output if it fails. */
export async function writeDeploymentAuth(dir: string, urls: string[], split?: string): Promise<string> {
  const args = [
    "deploy/nats-auth.ts",
    "--dir",
    dir,
    "--url",
    urls.join(","),
    ...(split ? ["--split", split] : []),
  ];
  const { out, err, code } = await runCommand([process.execPath, ...args], { cwd: join(deployDir, "..") });
  if (code !== 0) throw new Error(`deploy/nats-auth.ts exited ${code}: ${err}${out}`);
  return out;
}

/**
 * Runs a command to its end and collects both of its outputs (read together,
 * so neither pipe fills and blocks it). Without `env` it inherits this process's.
 *
 * @example
 * const { out, err, code } = await runCommand([bin, "-f", "compose.yml", "config"], { cwd: repo, env });
 */
export async function runCommand(
  cmd: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<{ out: string; err: string; code: number }> {
  const proc = Bun.spawn(cmd, { ...options, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { out, err, code };
}
