/**
 * Test helper: a real nats-server on a free loopback port with JetStream and a
 * temporary store directory, optionally with users and permissions and with
 * TLS required. It can be stopped, restarted on the same port and told to
 * reload its configuration; its log is kept for assertions (permission
 * violations); every process it starts is killed by PID when the test
 * process exits.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import type { Subprocess } from "bun";
import { freePort } from "../runtime/free-port.ts";
import { renderTls, type TlsFiles } from "../security/tls.ts";

export type NatsServerOptions = {
  /** Enable JetStream (default true). */
  jetstream?: boolean;
  /** Also listen for WebSocket clients (plain, no TLS) on a free port. */
  websocket?: boolean;
  /** Extra nats-server configuration text appended to the generated file. */
  extraConfig?: string;
  /** An `authorization { users: […] }` block (`renderAuthorization`): anonymous clients are refused. */
  auth?: string;
  /**
   * A file holding such a block (`writeNatsAuth`'s auth.conf), included so
   * that `reload()` picks up changes to it (as after `runnerly creds add`).
   */
  authFile?: string;
  /** Require TLS with these files (`ensureDevCertificates`); `verifyClients` requires client certificates. */
  tls?: TlsFiles & { verifyClients?: boolean };
  /** `server_name` (default `test_<port>`); the nodes of a JetStream cluster need distinct, stable ones. */
  serverName?: string;
};

const live = new Set<Subprocess>();
process.on("exit", () => {
  for (const p of live) p.kill("SIGKILL");
});

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
  /** The server's log lines (stderr), oldest first, across restarts. */
  readonly log: string[] = [];
  private logWaiters = new Set<() => void>();

  private constructor(
    readonly port: number,
    readonly wsPort: number | null,
    readonly storeDir: string,
    readonly configFile: string,
    private readonly tls: boolean,
  ) {}

  /** `nats://127.0.0.1:<port>`, or `tls://…` when TLS is required. */
  get url(): string {
    return `${this.tls ? "tls" : "nats"}://127.0.0.1:${this.port}`;
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
    const serverName = options.serverName ?? `test_${port}`;
    const lines = [`listen: "127.0.0.1:${port}"`, `server_name: "${serverName}"`, "max_payload: 8MB"];
    if (options.jetstream !== false) lines.push(`jetstream { store_dir: "${storeDir}" }`);
    if (wsPort !== null) lines.push(`websocket { listen: "127.0.0.1:${wsPort}", no_tls: true }`);
    if (options.auth) lines.push(options.auth);
    // nats-server resolves an include against the including file's folder, even an absolute path.
    if (options.authFile) lines.push(`include ${JSON.stringify(relative(dir, options.authFile))}`);
    if (options.tls)
      lines.push(renderTls(options.tls, { verifyClients: options.tls.verifyClients ?? false }));
    if (options.extraConfig) lines.push(options.extraConfig);
    const configFile = join(dir, "nats.conf");
    writeFileSync(configFile, `${lines.join("\n")}\n`);
    const server = new NatsServer(port, wsPort, storeDir, configFile, options.tls !== undefined);
    await server.launch();
    return server;
  }

  private async launch(): Promise<void> {
    const proc = Bun.spawn([natsServerBin(), "-c", this.configFile], { stdout: "ignore", stderr: "pipe" });
    live.add(proc);
    this.proc = proc;
    const from = this.log.length;
    void this.collect(proc);
    try {
      await this.waitForLog(/Server is ready/, 10_000, from);
    } catch (err) {
      throw new Error(`nats-server did not start: ${String(err)}`);
    }
  }

  /**
   * Waits for a log line matching `pattern` at or after line `from`; returns it.
   *
   * @example
   * await nats.waitForLog(/Publish Violation.*svc\.runs\.http/, 2000);
   */
  waitForLog(pattern: RegExp, ms: number, from = 0): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const line = this.log.slice(from).find((l) => pattern.test(l));
        if (line === undefined && this.proc !== null) return;
        done();
        if (line !== undefined) resolve(line);
        else
          reject(
            new Error(`nats-server exited before logging ${pattern}:\n${this.log.slice(-20).join("\n")}`),
          );
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `no nats-server log line matched ${pattern} in ${ms} ms:\n${this.log.slice(-20).join("\n")}`,
          ),
        );
      }, ms);
      const done = () => {
        clearTimeout(timer);
        this.logWaiters.delete(check);
      };
      this.logWaiters.add(check);
      check();
    });
  }

  /**
   * Makes the server read its configuration again (SIGHUP), as after
   * `runnerly creds add`, and waits until it has.
   *
   * @example
   * await runnerly("creds", "add", "greeter"); // rewrites the included auth.conf
   * await nats.reload();
   */
  async reload(): Promise<void> {
    if (!this.proc) throw new Error("nats-server is not running");
    const from = this.log.length;
    this.proc.kill("SIGHUP");
    const line = await this.waitForLog(/(Reloaded|Failed to reload) server configuration/, 10_000, from);
    if (line.includes("Failed")) throw new Error(`nats-server kept its old configuration: ${line}`);
  }

  /** Keeps reading the server's stderr into `log`, so it never blocks on a full pipe. */
  private async collect(proc: Subprocess): Promise<void> {
    const decoder = new TextDecoder();
    let partial = "";
    const reader = (proc.stderr as ReadableStream<Uint8Array>).getReader();
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        const lines = (partial + decoder.decode(r.value, { stream: true })).split("\n");
        partial = lines.pop() ?? "";
        this.log.push(...lines);
        for (const wake of [...this.logWaiters]) wake();
      }
    } catch {
      // the process ended
    }
    await proc.exited;
    if (this.proc === proc) this.proc = null;
    for (const wake of [...this.logWaiters]) wake();
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
