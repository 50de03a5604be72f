/**
 * Test helper: a JetStream cluster of real nats-server processes on loopback,
 * as compose runs it, without Docker. Each node is a `NatsServer` (free client
 * port, its own temporary store) named n1…nN, with a free cluster port routed
 * to every node and a monitoring port the helper polls for health. A node can
 * be killed with SIGKILL and restarted on the same ports with the same store,
 * as a crashed machine comes back.
 */
import { freePort } from "../runtime/free-port.ts";
import { NatsServer } from "./nats-server.ts";
import { waitFor } from "./wait.ts";

export type NatsClusterOptions = {
  /** How many nodes (default 3: the smallest cluster that survives losing one). */
  nodes?: number;
  /** The cluster's name (default `runnerly-test`). */
  name?: string;
  /** Extra configuration text for every node. */
  extraConfig?: string;
  /** How long start and restart may wait for the cluster to be healthy (default 30 s). */
  readyTimeoutMs?: number;
};

type Node = { server: NatsServer; name: string; monitorPort: number };

/** The parts of `/jsz` the helper reads. */
type Jsz = { meta_cluster?: { leader?: string; cluster_size?: number } };

export class NatsCluster {
  private constructor(
    private readonly nodes: Node[],
    private readonly readyTimeoutMs: number,
  ) {}

  /**
   * Starts every node and resolves once each one is healthy (its JetStream
   * in contact with an elected meta leader).
   *
   * @example
   * const cluster = await NatsCluster.start({ nodes: 3 });
   * const nc = await connect({ servers: cluster.url.split(",") });
   * afterAll(() => cluster.stop());
   */
  static async start(options: NatsClusterOptions = {}): Promise<NatsCluster> {
    const size = options.nodes ?? 3;
    const name = options.name ?? "runnerly-test";
    const [routePorts, monitorPorts] = [await distinctPorts(size), await distinctPorts(size)];
    const routes = routePorts.map((p) => `"nats-route://127.0.0.1:${p}"`).join(", ");
    const nodes: Node[] = [];
    const cluster = new NatsCluster(nodes, options.readyTimeoutMs ?? 30_000);
    try {
      for (let i = 0; i < size; i++) {
        const config = [
          `http: "127.0.0.1:${monitorPorts[i]}"`,
          `cluster { name: "${name}", listen: "127.0.0.1:${routePorts[i]}", routes: [${routes}] }`,
          options.extraConfig ?? "",
        ].join("\n");
        const server = await NatsServer.start({ serverName: `n${i + 1}`, extraConfig: config });
        nodes.push({ server, name: `n${i + 1}`, monitorPort: monitorPorts[i] as number });
      }
      await cluster.waitHealthy();
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** Every node's client URL, comma-separated (what `NATS_URL` takes). */
  get url(): string {
    return this.nodes.map((n) => n.server.url).join(",");
  }

  /** The client URLs as a list (what `connect({ servers })` takes). */
  get urls(): string[] {
    return this.nodes.map((n) => n.server.url);
  }

  /** How many nodes. */
  get size(): number {
    return this.nodes.length;
  }

  /** The `server_name` of node `i` (`n1` for 0). */
  nameOf(i: number): string {
    return this.node(i).name;
  }

  /** Node `i` itself (its log, PID, port). */
  server(i: number): NatsServer {
    return this.node(i).server;
  }

  /**
   * Kills node `i` with SIGKILL (by PID) and waits for it to be gone; its
   * store stays for `restart(i)`.
   *
   * @example
   * await cluster.kill(0);
   */
  async kill(i: number): Promise<void> {
    await this.node(i).server.stop({ kill: true, keepStore: true });
  }

  /**
   * Starts node `i` again on the same ports with the same store, and waits
   * until every node is healthy again (it rejoined and caught up).
   *
   * @example
   * await cluster.kill(1);
   * await cluster.restart(1);
   */
  async restart(i: number): Promise<void> {
    await this.node(i).server.restart();
    await this.waitHealthy();
  }

  /**
   * Waits until every running node answers `/healthz` with 200: it is up,
   * knows the meta leader, and its streams and consumers are current.
   */
  async waitHealthy(timeoutMs = this.readyTimeoutMs): Promise<void> {
    await waitFor(
      async () => {
        const running = this.nodes.filter((n) => n.server.running);
        for (const n of running) {
          const res = await fetch(`http://127.0.0.1:${n.monitorPort}/healthz`, {
            signal: AbortSignal.timeout(1000),
          });
          await res.body?.cancel();
          if (res.status !== 200) return false;
        }
        return (await this.metaLeader()) !== null;
      },
      { timeoutMs, intervalMs: 100, what: "every nats-server node to be healthy with a meta leader" },
    );
  }

  /** The `server_name` of the JetStream meta leader as the running nodes agree on it, or null. */
  async metaLeader(): Promise<string | null> {
    const leaders = new Set<string | undefined>();
    for (const n of this.nodes.filter((x) => x.server.running)) {
      const jsz = (await (
        await fetch(`http://127.0.0.1:${n.monitorPort}/jsz`, { signal: AbortSignal.timeout(1000) })
      ).json()) as Jsz;
      leaders.add(jsz.meta_cluster?.leader || undefined);
    }
    const [leader] = leaders;
    return leaders.size === 1 && leader ? leader : null;
  }

  /** Stops every node (SIGTERM) and removes their stores. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.server.stop()));
  }

  private node(i: number): Node {
    const n = this.nodes[i];
    if (!n) throw new RangeError(`no node ${i} in a cluster of ${this.nodes.length}`);
    return n;
  }
}

/** `n` free loopback ports, all different. */
async function distinctPorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}
