/**
 * RPC between services: a contract (zod input/output per method) defined once
 * in the callee's `contract.ts`, validated on both sides. Requests travel on
 * `svc.<name>.rpc.<method>` with the mesh headers; errors travel as ADR-32
 * service errors with a problem body and come back as the same `MeshError`.
 */
import { type NatsConnection, errors as natsErrors, headers as natsHeaders } from "@nats-io/nats-core";
import type { ServiceMsg } from "@nats-io/services";
import type { z } from "zod";
import { withDeadline } from "../deadline/index.ts";
import { MeshError, toMeshError, validationError } from "../errors/index.ts";
import type { Logger } from "../log/logger.ts";
import { MeshHeader, rpcSubject } from "../protocol/index.ts";
import type { MeshMeta } from "../service/context.ts";
import {
  Attr,
  extractContext,
  failSpan,
  injectContext,
  inSpan,
  parentContext,
  type Span,
  SpanKind,
  startSpan,
  traceFields,
  traceparentOf,
  useAsyncContext,
} from "../trace/index.ts";
import { fromCallee, observed } from "./observer.ts";

export type RpcMethod<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> = {
  input: I;
  output: O;
  description?: string;
};
export type RpcMethods = Record<string, RpcMethod>;

/** A service's RPC surface: its name and its methods' schemas. */
export type RpcContract<M extends RpcMethods = RpcMethods> = { service: string; methods: M };

/**
 * Declares an RPC contract (in the callee's `contract.ts`).
 *
 * @example
 * export const runsRpc = defineRpc("runs", {
 *   totals: { input: z.object({ user: z.string() }), output: z.object({ distance: z.number() }) },
 * });
 */
export function defineRpc<const M extends RpcMethods>(service: string, methods: M): RpcContract<M> {
  return { service, methods };
}

/** Server-side implementations of a contract's methods. */
export type RpcHandlers<M extends RpcMethods> = {
  [K in keyof M]: (input: z.output<M[K]["input"]>, meta: MeshMeta) => Promise<z.input<M[K]["output"]>>;
};

/** The mesh context of a call; `traceparent` names the callee's span, the parent of what it calls next. */
function metaFromHeaders(msg: ServiceMsg, span: Span): MeshMeta {
  const h = msg.headers;
  const deadline = Number(h?.get(MeshHeader.Deadline));
  return {
    requestId: h?.get(MeshHeader.RequestId) || crypto.randomUUID(),
    user: h?.get(MeshHeader.User) || undefined,
    clientAddress: h?.get(MeshHeader.ClientAddress) || undefined,
    deadline: Number.isFinite(deadline) && deadline > 0 ? deadline : undefined,
    traceparent: traceparentOf(span),
  };
}

// JSON is UTF-8 (RFC 8259 §8.1): bytes that are not are refused, never read as U+FFFD.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** `svc.stats.rpc.weeklyTotals` → `["stats", "weeklyTotals"]`. */
function rpcTarget(subject: string): [string, string] {
  const parts = subject.split(".");
  return [parts[1] ?? subject, parts.slice(3).join(".") || subject];
}

/**
 * Handles one RPC message inside a SERVER span (a child of the caller's
 * `traceparent`, active while the handler runs); never throws (every
 * failure is an ADR-32 error reply).
 */
export async function serveRpcMessage(
  method: RpcMethod,
  handler: (input: unknown, meta: MeshMeta) => Promise<unknown>,
  msg: ServiceMsg,
  logger: Logger,
): Promise<void> {
  useAsyncContext();
  const [service, name] = rpcTarget(msg.subject);
  const parent = extractContext(msg.headers);
  const span = startSpan(`${service}/${name}`, {
    kind: SpanKind.SERVER,
    parent,
    attributes: { [Attr.RpcSystem]: "nats", [Attr.RpcService]: service, [Attr.RpcMethod]: name },
  });
  const meta = metaFromHeaders(msg, span);
  span.setAttribute(Attr.RequestId, meta.requestId);
  try {
    await withDeadline(meta.deadline, () =>
      inSpan(span, parent, () => answerRpc(method, handler, msg, meta, span, logger)),
    );
  } finally {
    span.end();
  }
}

async function answerRpc(
  method: RpcMethod,
  handler: (input: unknown, meta: MeshMeta) => Promise<unknown>,
  msg: ServiceMsg,
  meta: MeshMeta,
  span: Span,
  logger: Logger,
): Promise<void> {
  try {
    let text: string;
    try {
      text = strictUtf8.decode(msg.data);
    } catch {
      throw new MeshError(400, { detail: "input: not valid UTF-8 (a JSON body must be UTF-8)" });
    }
    let json: unknown;
    try {
      json = text.length === 0 ? undefined : JSON.parse(text);
    } catch {
      throw new MeshError(400, { detail: "input: not valid JSON" });
    }
    const input = method.input.safeParse(json);
    if (!input.success) throw validationError(input.error, "input");
    const result = await handler(input.data, meta);
    const output = method.output.safeParse(result);
    if (!output.success) {
      throw new MeshError(500, { detail: "The service produced an output that breaks its own contract." });
    }
    msg.respond(new TextEncoder().encode(JSON.stringify(output.data ?? null)));
  } catch (err) {
    const error = toMeshError(err);
    span.setAttribute(Attr.RpcStatus, String(error.status));
    if (error.status >= 500) {
      failSpan(span, err);
      logger.error({ err: String(err), requestId: meta.requestId, ...traceFields(span) }, "rpc failed");
    }
    const body = new TextEncoder().encode(JSON.stringify(error.toProblem()));
    msg.respondError(error.status, error.title, body);
  }
}

export type RpcCallOptions = {
  /** Mesh context of the request on whose behalf the call is made (deadline, ids, caller). */
  meta?: Partial<MeshMeta>;
  /** Upper bound for this call; the caller's deadline shortens it. */
  timeoutMs?: number;
};

export type RpcClient<M extends RpcMethods> = {
  [K in keyof M]: (
    input: z.input<M[K]["input"]>,
    options?: RpcCallOptions,
  ) => Promise<z.output<M[K]["output"]>>;
};

/**
 * A typed client of another service's contract. Input is validated before it
 * leaves, output when it arrives; errors are `MeshError`s (503 no responders,
 * 504 deadline, or the callee's own error).
 *
 * @example
 * const runs = createRpcClient(nc, runsRpc, { timeoutMs: 500 });
 * const t = await runs.totals({ user }, { meta: c.get("mesh") });
 */
export function createRpcClient<M extends RpcMethods>(
  nc: NatsConnection,
  contract: RpcContract<M>,
  defaults: { timeoutMs?: number } = {},
): RpcClient<M> {
  const client = {} as Record<string, (input: unknown, options?: RpcCallOptions) => Promise<unknown>>;
  for (const [name, method] of Object.entries(contract.methods)) {
    const subject = rpcSubject(contract.service, name);
    client[name] = async function rpcCall(input, options = {}) {
      const parsed = method.input.safeParse(input);
      if (!parsed.success) throw validationError(parsed.error, "input");
      const meta = options.meta ?? {};
      const now = Date.now();
      const budget = Math.min(
        options.timeoutMs ?? defaults.timeoutMs ?? 5000,
        (meta.deadline ?? Infinity) - now,
      );
      if (budget <= 0)
        throw new MeshError(504, { detail: `No time left to call ${contract.service}.${name}` });
      // A CLIENT span, child of the active span (or of `meta.traceparent` when it names another trace).
      const span = startSpan(`${contract.service}/${name}`, {
        kind: SpanKind.CLIENT,
        parent: parentContext(meta.traceparent),
        attributes: { [Attr.RpcSystem]: "nats", [Attr.RpcService]: contract.service, [Attr.RpcMethod]: name },
      });
      try {
        const h = natsHeaders();
        h.set(MeshHeader.RequestId, meta.requestId ?? crypto.randomUUID());
        h.set(MeshHeader.Deadline, String(now + budget));
        if (meta.user) h.set(MeshHeader.User, meta.user);
        if (meta.clientAddress) h.set(MeshHeader.ClientAddress, meta.clientAddress);
        injectContext(span, h);
        let reply: Awaited<ReturnType<NatsConnection["request"]>>;
        try {
          reply = await nc.request(subject, JSON.stringify(parsed.data), { timeout: budget, headers: h });
        } catch (err) {
          throw callFailure(err, `${contract.service}.${name}`);
        }
        const remote = MeshError.fromServiceReply(reply.headers, reply.data);
        if (remote) throw fromCallee(remote);
        const output = method.output.safeParse(reply.data.length ? reply.json() : undefined);
        if (!output.success) {
          throw new MeshError(502, { detail: `${contract.service}.${name} answered outside its contract` });
        }
        return output.data;
      } catch (err) {
        if (err instanceof MeshError) span.setAttribute(Attr.RpcStatus, String(err.status));
        failSpan(span, err);
        throw err;
      } finally {
        span.end();
      }
    };
    client[name] = observed(nc, `${contract.service}.${name}`, client[name]!);
  }
  return client as RpcClient<M>;
}

function callFailure(err: unknown, target: string): MeshError {
  if (err instanceof natsErrors.NoRespondersError) {
    return new MeshError(503, { detail: `${target} has no responders`, headers: { "retry-after": "1" } });
  }
  if (err instanceof natsErrors.TimeoutError) {
    return new MeshError(504, { detail: `${target} did not answer in time` });
  }
  if (err instanceof natsErrors.RequestError && err.isNoResponders()) {
    return new MeshError(503, { detail: `${target} has no responders`, headers: { "retry-after": "1" } });
  }
  return new MeshError(502, { detail: `${target} failed: ${String(err)}`, cause: err });
}
