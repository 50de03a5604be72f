/**
 * The edge on Cloudflare workerd. A WebSocket opened while handling one
 * request cannot be used by another ("Cannot perform I/O on behalf of a
 * different request"), so the NATS connection cannot live in a module
 * variable of the worker: it lives in one Durable Object, `EdgeHub`, which
 * owns it and the edge app. The worker's `fetch` only hands every request to
 * that object. Bundled by build.ts; configured by capnp.ts.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { ConfigError, type Logger, MeshError } from "@runnerly/kit/web";
import { createEdge, type Edge } from "../../app.ts";
import { edgeOptionsFromConfig } from "../../config.ts";
import { consoleLogger } from "../common/console-logger.ts";
import { loadWsConfig } from "../common/ws-config.ts";
import { connectNatsWs } from "../common/ws-nats.ts";

// The few workerd types this file uses (tsconfig carries Bun's types, not @cloudflare/workers-types).
type DurableObjectId = unknown;
type DurableObjectStub = { fetch(request: Request): Promise<Response> };
type DurableObjectNamespace = {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): DurableObjectStub;
};

/** The worker's bindings: the hub's namespace plus the edge's environment keys as text. */
export type Env = { EDGE_HUB: DurableObjectNamespace; [key: string]: unknown };

// The one hub's name: every request of every worker instance reaches the same connection.
// (Not exported: workerd reads every export of the main module as a handler or class.)
const HUB_NAME = "edge";

export default {
  /** Forwards the request, body and all, to the hub that owns the NATS connection. */
  fetch(request: Request, env: Env): Promise<Response> {
    return env.EDGE_HUB.get(env.EDGE_HUB.idFromName(HUB_NAME)).fetch(request);
  },
};

type Hub = { nc: NatsConnection; edge: Edge };

/**
 * The Durable Object that owns the NATS WebSocket and the edge app. It
 * connects on its first request (constructors cannot await) and serves every
 * later one with the same connection and route table.
 */
export class EdgeHub {
  private readonly env: Env;
  private readonly log: Logger;
  private hub: Promise<Hub> | null = null;

  /** workerd passes the object's state (unused: the hub stores nothing) and the worker's bindings. */
  constructor(_state: unknown, env: Env) {
    this.env = env;
    this.log = consoleLogger("edge", typeof env.LOG_LEVEL === "string" ? env.LOG_LEVEL : undefined);
  }

  async fetch(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    let hub: Hub;
    try {
      hub = await this.start();
    } catch (err) {
      return this.unavailable(err, path);
    }
    return hub.edge.app.fetch(request);
  }

  /** One start shared by the requests that arrive while it runs; a failed start is retried by the next request. */
  private start(): Promise<Hub> {
    this.hub ??= this.connect().catch((err: unknown) => {
      this.hub = null;
      throw err;
    });
    return this.hub;
  }

  private async connect(): Promise<Hub> {
    const config = loadWsConfig(this.env);
    const name = `edge-workerd-${crypto.randomUUID().slice(0, 8)}`;
    const nc = await connectNatsWs(config, { name, logger: this.log });
    const edge = createEdge({ nc, logger: this.log, ...edgeOptionsFromConfig(config) });
    // Serve after the first sweep, as the other runtimes do, so the first requests get no false 404.
    await edge.ready;
    this.log.info({ routes: edge.routes.list().length }, "edge hub connected");
    return { nc, edge };
  }

  private unavailable(err: unknown, path: string): Response {
    if (err instanceof ConfigError) {
      this.log.error({ problems: err.problems }, err.message);
      return new MeshError(500, { detail: "The gateway is misconfigured; see its log." }).toResponse(path);
    }
    this.log.error({ err: String(err) }, "edge hub could not connect to NATS");
    return new MeshError(503, {
      detail: "The gateway has no connection to the mesh.",
      headers: { "retry-after": "1" },
    }).toResponse(path);
  }
}
