/**
 * `runnerly ls | info | stats | call`: the NATS Services API (ADR-32) from the
 * terminal, like `nats micro ls/info/stats`, for kit services and foreign ones
 * alike, plus a typed-by-hand RPC call.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { type ServiceInfo, type ServiceStats, Svcm } from "@nats-io/services";
import { MeshError, rpcSubject } from "@runnerly/kit";

/** Every instance's INFO (or only `name`'s), gathered until replies stop coming. */
export async function collect<T>(query: Promise<AsyncIterable<T>>): Promise<T[]> {
  const out: T[] = [];
  try {
    for await (const item of await query) out.push(item);
  } catch (err) {
    // No instance at all is an empty answer, not a failure.
    if (!/no responders|503/i.test(String(err))) throw err;
  }
  return out;
}

export const infos = (nc: NatsConnection, name?: string) =>
  collect<ServiceInfo>(new Svcm(nc).client().info(name));
export const stats = (nc: NatsConnection, name?: string) =>
  collect<ServiceStats>(new Svcm(nc).client().stats(name));

/** One line per service: name, versions, instances, description. */
export function renderList(all: ServiceInfo[]): string {
  const byName = new Map<string, ServiceInfo[]>();
  for (const i of all) byName.set(i.name, [...(byName.get(i.name) ?? []), i]);
  const rows = [...byName.entries()].sort(([a], [b]) => a.localeCompare(b));
  if (rows.length === 0) return "no services answer $SRV.INFO";
  const width = Math.max(4, ...rows.map(([n]) => n.length));
  const lines = [`${"NAME".padEnd(width)}  INSTANCES  VERSIONS        DESCRIPTION`];
  for (const [name, list] of rows) {
    const versions = [...new Set(list.map((i) => i.version))].join(",");
    lines.push(
      `${name.padEnd(width)}  ${String(list.length).padEnd(9)}  ${versions.padEnd(14)}  ${list[0]?.description ?? ""}`,
    );
  }
  return lines.join("\n");
}

/** A service's instances, metadata and endpoints. */
export function renderInfo(name: string, list: ServiceInfo[], st: ServiceStats[]): string {
  if (list.length === 0) return `${name}: no instance answers`;
  const lines: string[] = [];
  for (const i of list) {
    const s = st.find((x) => x.id === i.id);
    lines.push(`${i.name} ${i.version}  instance ${i.id}${s ? `  started ${s.started}` : ""}`);
    if (i.description) lines.push(`  ${i.description}`);
    for (const [k, v] of Object.entries(i.metadata ?? {})) lines.push(`  metadata ${k} = ${v}`);
    for (const e of i.endpoints) {
      const es = s?.endpoints?.find((x) => x.name === e.name);
      const counts = es
        ? `  requests ${es.num_requests}, errors ${es.num_errors}, avg ${(es.average_processing_time / 1e6).toFixed(2)} ms`
        : "";
      lines.push(
        `  endpoint ${e.name.padEnd(16)} ${e.subject}${e.queue_group ? ` (queue ${e.queue_group})` : ""}${counts}`,
      );
    }
  }
  return lines.join("\n");
}

/** Totals of `$SRV.STATS` per service and endpoint. */
export function renderStats(st: ServiceStats[]): string {
  if (st.length === 0) return "no services answer $SRV.STATS";
  const lines = ["SERVICE          ENDPOINT          REQUESTS   ERRORS  AVG MS"];
  const totals = new Map<string, { requests: number; errors: number; time: number }>();
  for (const s of st) {
    for (const e of s.endpoints ?? []) {
      const key = `${s.name}\u0000${e.name}`;
      const t = totals.get(key) ?? { requests: 0, errors: 0, time: 0 };
      t.requests += e.num_requests;
      t.errors += e.num_errors;
      t.time += e.processing_time;
      totals.set(key, t);
    }
  }
  for (const [key, t] of [...totals.entries()].sort()) {
    const [service, endpoint] = key.split("\u0000") as [string, string];
    const avg = t.requests ? (t.time / t.requests / 1e6).toFixed(2) : "-";
    lines.push(
      `${service.padEnd(16)} ${endpoint.padEnd(16)} ${String(t.requests).padStart(9)} ${String(t.errors).padStart(8)}  ${avg}`,
    );
  }
  return lines.join("\n");
}

/**
 * Calls `svc.<service>.rpc.<method>` with a JSON body; returns the JSON reply
 * or throws the service's error as a MeshError.
 */
export async function callRpc(
  nc: NatsConnection,
  target: string,
  json: string,
  timeoutMs = 5000,
): Promise<unknown> {
  const dot = target.indexOf(".");
  if (dot <= 0 || dot === target.length - 1) throw new Error(`expected <service>.<method>, got "${target}"`);
  let body: unknown;
  try {
    body = JSON.parse(json);
  } catch {
    throw new Error(`the input is not JSON: ${json}`);
  }
  const subject = rpcSubject(target.slice(0, dot), target.slice(dot + 1));
  const reply = await nc.request(subject, JSON.stringify(body), { timeout: timeoutMs }).catch((err) => {
    throw new MeshError(/no responders/i.test(String(err)) ? 503 : 504, {
      detail: `${subject}: ${String(err)}`,
    });
  });
  const error = MeshError.fromServiceReply(reply.headers, reply.data);
  if (error) throw error;
  return reply.data.length ? reply.json() : null;
}
