/**
 * The BullMQ row's broker: Debian's redis-server (package `redis-server`),
 * started by the bench on a free loopback port with its files in the bench's
 * work directory, and stopped by PID.
 */
import { mkdirSync, rmSync } from "node:fs";
import { freePort } from "@runnerly/kit/runtime";
import { waitFor } from "@runnerly/kit/testing";
import { RedisClient } from "bun";
import { type Child, spawnServer, stopServer } from "../lib/procs.ts";

/**
 * How Redis keeps what it is given: only in memory, or also in its
 * append-only file, fsync'd once a second or before it answers a write.
 */
export type RedisDurability = "memory" | "aof-everysec" | "aof-always";

export type RedisServer = { url: string; pid: number; child: Child; stop(): Promise<void> };

/** The command line's persistence settings for a durability. */
export function redisPersistenceArgs(durability: RedisDurability): string[] {
  if (durability === "memory") return ["--save", "", "--appendonly", "no"];
  const appendfsync = durability === "aof-always" ? "always" : "everysec";
  return ["--save", "", "--appendonly", "yes", "--appendfsync", appendfsync];
}

/**
 * Starts redis-server and waits until it answers PING.
 *
 * @example
 * const redis = await startRedis({ dir: ".data/bench/redis", logDir, durability: "aof-everysec", prefix: [] });
 * await redis.stop();
 */
export async function startRedis(options: {
  dir: string;
  logDir: string;
  durability: RedisDurability;
  /** taskset and the like, in front of the binary. */
  prefix: string[];
}): Promise<RedisServer> {
  const bin = Bun.which("redis-server");
  if (!bin) throw new Error("redis-server not found: install it (Debian: apt-get install redis-server)");
  rmSync(options.dir, { recursive: true, force: true });
  mkdirSync(options.dir, { recursive: true });
  const port = await freePort();
  const argv = [
    ...options.prefix,
    bin,
    "--bind",
    "127.0.0.1",
    "--port",
    String(port),
    "--dir",
    options.dir,
    "--protected-mode",
    "yes",
    ...redisPersistenceArgs(options.durability),
  ];
  const child = spawnServer(`redis-${options.durability}`, argv, { env: {}, logDir: options.logDir });
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      const client = new RedisClient(url, { autoReconnect: false, connectionTimeout: 500 });
      try {
        return (await client.send("PING", [])) === "PONG";
      } finally {
        client.close();
      }
    },
    { timeoutMs: 10_000, what: `redis-server on port ${port}` },
  );
  return { url, pid: child.pid, child, stop: () => stopServer(child) };
}
