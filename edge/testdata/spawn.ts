/**
 * Starts `mesh-service.ts` instances as real Bun processes for the edge's
 * failover tests, and stops every one of them by PID when the test is done.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

const SCRIPT = new URL("./mesh-service.ts", import.meta.url).pathname;

/** Subject on which a `HOLD_POSTS=1` instance reports (with its id) the request it holds. */
export const HOLDING_SUBJECT = "edge-test.holding";

export type MeshProcess = { proc: Subprocess; pid: number; kill(): Promise<void> };

/**
 * A group of service processes sharing one data dir (so one SQLite file, as
 * instances on one machine do).
 *
 * @example
 * const mesh = meshProcesses(nats.url);
 * const a = mesh.start({ HOLD_POSTS: "1" });
 * await a.kill(); // SIGKILL, waits for the exit
 * await mesh.stopAll();
 */
export function meshProcesses(natsUrl: string) {
  const dataDir = mkdtempSync(join(tmpdir(), "runnerly-edge-mesh-"));
  const started: MeshProcess[] = [];

  function start(env: Record<string, string> = {}): MeshProcess {
    const proc = Bun.spawn([process.execPath, SCRIPT], {
      env: { PATH: process.env.PATH ?? "", NATS_URL: natsUrl, DATA_DIR: dataDir, LOG_LEVEL: "warn", ...env },
      stdin: "ignore",
      stdout: "inherit",
      stderr: "inherit",
    });
    const p: MeshProcess = {
      proc,
      pid: proc.pid,
      async kill() {
        if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, "SIGKILL");
        await proc.exited;
      },
    };
    started.push(p);
    return p;
  }

  async function stopAll(): Promise<void> {
    await Promise.all(started.map((p) => p.kill()));
    rmSync(dataDir, { recursive: true, force: true });
  }

  return { dataDir, start, stopAll };
}
