/**
 * Test helper: a real nats-server on a free loopback port with JetStream and a
 * temporary store directory. It can be stopped and restarted on the same port,
 * and every process it starts is killed by PID when the test process exits.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

export type NatsServerOptions = {
  /** Enable JetStream (default true). */
  jetstream?: boolean;
  /** Also listen for WebSocket clients (plain, no TLS) on a free port. */
  websocket?: boolean;
  /** Extra nats-server configuration text appended to the generated file. */
  extraConfig?: string;
};

const live = new Set<Subprocess>();
process.on("exit", () => {
  for (const p of live) p.kill("SIGKILL");
});

/** Finds a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

/** The nats-server binary: NATS_SERVER_BIN or the one on PATH. */
export function natsServerBin(): string {
  const bin = process.env.NATS_SERVER_BIN ?? Bun.which("nats-server");
  if (!bin) {
    throw new Error(
      "nats-server not found: install it (Debian: apt-get install nats-server) or set NATS_SERVER_BIN.",
    );
  }
  return bin;
}

export class NatsServer {
  private proc: Subprocess | null = null;

  private constructor(
    readonly port: number,
    readonly wsPort: number | null,
    readonly storeDir: string,
    private readonly configFile: string,
  ) {}

  /** `nats://127.0.0.1:<port>` */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** `ws://127.0.0.1:<wsPort>` when started with `websocket: true`. */
  get wsUrl(): string {
    if (this.wsPort === null) throw new Error("this nats-server was started without websocket: true");
    return `ws://127.0.0.1:${this.wsPort}`;
  }

  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  get running(): boolean {
    return this.proc !== null;
  }

  /**
   * Starts a server on free ports.
   *
   * @example
   * const nats = await NatsServer.start();
   * afterAll(() => nats.stop());
   */
  static async start(options: NatsServerOptions = {}): Promise<NatsServer> {
    const port = await freePort();
    const wsPort = options.websocket ? await freePort() : null;
    const dir = mkdtempSync(join(tmpdir(), "runnerly-nats-"));
    const storeDir = join(dir, "js");
    // max_payload as in the dev stack and compose: GPX uploads of a few MB are one message.
    const lines = [`listen: "127.0.0.1:${port}"`, `server_name: "test_${port}"`, "max_payload: 8MB"];
    if (options.jetstream !== false) lines.push(`jetstream { store_dir: "${storeDir}" }`);
    if (wsPort !== null) lines.push(`websocket { listen: "127.0.0.1:${wsPort}", no_tls: true }`);
    if (options.extraConfig) lines.push(options.extraConfig);
    const configFile = join(dir, "nats.conf");
    writeFileSync(configFile, `${lines.join("\n")}\n`);
    const server = new NatsServer(port, wsPort, storeDir, configFile);
    await server.launch();
    return server;
  }

  private async launch(): Promise<void> {
    const proc = Bun.spawn([natsServerBin(), "-c", this.configFile], { stdout: "ignore", stderr: "pipe" });
    live.add(proc);
    this.proc = proc;
    await waitForLine(proc, "Server is ready", 10_000);
  }

  /** Restarts on the same port(s) with the same store (JetStream data survives). */
  async restart(): Promise<void> {
    await this.stop({ keepStore: true });
    await this.launch();
  }

  /** Stops the server (SIGTERM, or SIGKILL with `kill: true`) and waits for it to exit. */
  async stop(options: { keepStore?: boolean; kill?: boolean } = {}): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (proc) {
      proc.kill(options.kill ? "SIGKILL" : "SIGTERM");
      await proc.exited;
      live.delete(proc);
    }
    if (!options.keepStore) rmSync(join(this.configFile, ".."), { recursive: true, force: true });
  }
}

/** Reads a process's stderr until a line contains `marker`, failing after `ms`. */
async function waitForLine(proc: Subprocess, marker: string, ms: number): Promise<void> {
  const stream = proc.stderr as ReadableStream<Uint8Array>;
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  const deadline = setTimeout(() => reader.cancel("timeout"), ms);
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += decoder.decode(value, { stream: true });
      if (seen.includes(marker)) {
        // Keep draining so the server never blocks on a full stderr pipe.
        void drain(reader);
        return;
      }
    }
  } finally {
    clearTimeout(deadline);
  }
  throw new Error(`nats-server did not report "${marker}" within ${ms} ms. Output:\n${seen.slice(-2000)}`);
}

async function drain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  try {
    while (!(await reader.read()).done) {}
  } catch {
    // the process ended
  }
}
