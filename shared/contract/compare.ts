/**
 * Compares a service's snapshotted contract with its current one: removed
 * routes, methods, worked tasks, events and fields, narrowed inputs, widened
 * outputs, new required inputs and event schemas changed under the same
 * version are breaking; new routes, methods, tasks, events, optional inputs
 * and response fields are additive, and so are tasks it starts or stops
 * submitting. A higher major version allows the breaking ones.
 */

import type { ServiceLevels } from "../protocol/levels.ts";
import { compareOpenApi } from "./compare-openapi.ts";
import { normalize, same } from "./json-schema.ts";
import { diffSchema, type Finding } from "./schema-diff.ts";
import type { Change, Contract } from "./types.ts";

/**
 * Every difference between two contracts of one service, breaking first.
 *
 * @example
 * const changes = compareContracts(snapshot, await extractContract(service));
 * changes.filter((c) => c.kind === "breaking").map(formatChange);
 * // → ['runs: GET /api/runs/runs/{id}: response 200 field "distanceM" removed']
 */
export function compareContracts(old: Contract, neu: Contract): Change[] {
  const name = neu.service;
  // A snapshot from an older or hand-edited file may lack a part: it then promised nothing there.
  const changes = [
    ...compareOpenApi(name, old.openapi ?? {}, neu.openapi ?? {}),
    ...compareRpc(name, old.rpc ?? {}, neu.rpc ?? {}),
    ...compareEvents(name, old.events ?? [], neu.events ?? []),
    ...compareWorkedTasks(name, old.tasks?.works ?? [], neu.tasks?.works ?? []),
    ...compareSubmittedTasks(name, old.tasks?.submits ?? [], neu.tasks?.submits ?? []),
    ...compareLevels(name, old.slo ?? {}, neu.slo ?? {}),
  ];
  return [...changes.filter((c) => c.kind === "breaking"), ...changes.filter((c) => c.kind === "additive")];
}

/** `runs: GET /api/runs/runs/{id}: response 200 field "distanceM" removed`. */
export const formatChange = (c: Change): string => `${c.where}: ${c.what}`;

export type Verdict = {
  service: string;
  breaking: Change[];
  additive: Change[];
  /** The major version went up since the snapshot: breaking changes are allowed. */
  majorBumped: boolean;
  versions: { snapshot: string; current: string };
  /** No breaking change, or only allowed ones. */
  ok: boolean;
};

/**
 * Judges a service's current contract against its snapshot.
 *
 * @example
 * const v = judge(snapshot, current);
 * if (!v.ok) console.error(v.breaking.map(formatChange).join("\n"));
 */
export function judge(old: Contract, neu: Contract): Verdict {
  const changes = compareContracts(old, neu);
  const breaking = changes.filter((c) => c.kind === "breaking");
  const majorBumped = major(neu.version) > major(old.version);
  return {
    service: neu.service,
    breaking,
    additive: changes.filter((c) => c.kind === "additive"),
    majorBumped,
    versions: { snapshot: old.version, current: neu.version },
    ok: breaking.length === 0 || majorBumped,
  };
}

/** The major part of a semver (`1.4.2` → 1); NaN for something that isn't one. */
export function major(version: string): number {
  const m = /^v?(\d+)\.\d+\.\d+/.exec(version.trim());
  return m ? Number(m[1]) : Number.NaN;
}

const tag =
  (where: string) =>
  (f: Finding): Change => ({ ...f, where });

/** What a caller sends may not narrow, what it gets back may not widen: RPC methods and worked tasks. */
function compareSides(where: string, o: Sides, n: Sides): Change[] {
  const input = diffSchema({ schema: o.input, root: o.input }, { schema: n.input, root: n.input }, "input", {
    base: "input",
    path: [],
  });
  const output = diffSchema(
    { schema: o.output, root: o.output },
    { schema: n.output, root: n.output },
    "output",
    { base: "output", path: [] },
  );
  return [...input, ...output].map(tag(where));
}

type Sides = { input: unknown; output: unknown };

function compareRpc(service: string, old: Contract["rpc"], neu: Contract["rpc"]): Change[] {
  const out: Change[] = [];
  for (const [method, o] of Object.entries(old)) {
    const where = `${service}: rpc ${method}`;
    const n = neu[method];
    if (!n) {
      out.push({ kind: "breaking", where, what: "method removed" });
      continue;
    }
    out.push(...compareSides(where, o, n));
  }
  for (const method of Object.keys(neu)) {
    if (!(method in old))
      out.push({ kind: "additive", where: `${service}: rpc ${method}`, what: "method added" });
  }
  return out;
}

type Tasks = NonNullable<Contract["tasks"]>;

/**
 * A worked task version is a promise to every requester, like an RPC method:
 * dropping it leaves their submissions unworked (a new version beside it is
 * the way to change it incompatibly), and its input may not narrow nor its
 * output widen.
 */
function compareWorkedTasks(service: string, old: Tasks["works"], neu: Tasks["works"]): Change[] {
  const out: Change[] = [];
  const key = (t: { name: string; version: number }) => `${t.name} v${t.version}`;
  for (const o of old) {
    const where = `${service}: task ${key(o)}`;
    const n = neu.find((t) => key(t) === key(o));
    if (!n) out.push({ kind: "breaking", where, what: "no longer worked" });
    else out.push(...compareSides(where, o, n));
  }
  for (const n of neu) {
    if (!old.some((o) => key(o) === key(n)))
      out.push({ kind: "additive", where: `${service}: task ${key(n)}`, what: "worked" });
  }
  return out;
}

/**
 * Tasks submitted are what the service needs, not what it promises: starting
 * or stopping to submit one breaks nobody (whether its owner works it is the
 * consumer check's, see consumers.ts), but it changes the snapshot.
 */
function compareSubmittedTasks(service: string, old: Tasks["submits"], neu: Tasks["submits"]): Change[] {
  const key = (t: Tasks["submits"][number]) => `${t.service}/${t.name} v${t.version}`;
  const [before, after] = [new Set(old.map(key)), new Set(neu.map(key))];
  return [
    ...[...after].filter((k) => !before.has(k)).map((k) => ({ what: "submitted", k })),
    ...[...before].filter((k) => !after.has(k)).map((k) => ({ what: "no longer submitted", k })),
  ].map(({ what, k }) => ({ kind: "additive", where: `${service}: submits task ${k}`, what }));
}

/**
 * An event version is a promise to every consumer, past and future: its
 * schema may not change at all (a change needs a new version); dropping a
 * version leaves its consumers without events.
 */
function compareEvents(service: string, old: Contract["events"], neu: Contract["events"]): Change[] {
  const out: Change[] = [];
  const key = (e: { type: string; version: number }) => `${e.type} v${e.version}`;
  for (const o of old) {
    const where = `${service}: event ${key(o)}`;
    const n = neu.find((e) => key(e) === key(o));
    if (!n) {
      out.push({ kind: "breaking", where, what: "no longer published" });
      continue;
    }
    if (same(normalize(o.schema, o.schema), normalize(n.schema, n.schema))) continue;
    // What a consumer's decoding would notice (input side), then what it could newly receive.
    const [from, to] = [
      { schema: o.schema, root: o.schema },
      { schema: n.schema, root: n.schema },
    ];
    const details = [
      ...diffSchema(from, to, "input", { base: "data", path: [] }),
      ...diffSchema(from, to, "output", { base: "data", path: [] }).filter((f) => f.kind === "breaking"),
    ].map((f) => f.what);
    const why = [...new Set(details)];
    out.push({
      kind: "breaking",
      where,
      what: `schema changed without a new version${why.length ? ` (${why.join("; ")})` : ""}`,
    });
  }
  for (const n of neu) {
    if (!old.some((o) => key(o) === key(n))) {
      out.push({ kind: "additive", where: `${service}: event ${key(n)}`, what: "added" });
    }
  }
  return out;
}

/**
 * Declared service levels: a weaker promise breaks callers who planned on it
 * (lower availability, a higher p99, a rate limit that admits fewer requests
 * per second, or a promise dropped); a stronger or new one is additive.
 */
function compareLevels(name: string, old: ServiceLevels, neu: ServiceLevels): Change[] {
  const where = `${name}: service levels`;
  const out: Change[] = [];
  const judge = (what: string, weaker: boolean) =>
    out.push({ kind: weaker ? "breaking" : "additive", where, what });
  const rate = (r: ServiceLevels["rateLimit"]) => (r ? r.limit / r.windowMs : undefined);
  const fmt = (r: ServiceLevels["rateLimit"]) => (r ? `${r.limit}/${r.windowMs / 1000}s` : "none");
  if (old.availability !== neu.availability) {
    if (neu.availability === undefined) judge(`availability objective ${old.availability} % dropped`, true);
    else
      judge(
        old.availability === undefined
          ? `availability objective ${neu.availability} % declared`
          : `availability ${old.availability} % → ${neu.availability} %`,
        old.availability !== undefined && neu.availability < old.availability,
      );
  }
  if (old.latencyP99Ms !== neu.latencyP99Ms) {
    if (neu.latencyP99Ms === undefined) judge(`p99 objective ${old.latencyP99Ms} ms dropped`, true);
    else
      judge(
        old.latencyP99Ms === undefined
          ? `p99 objective ${neu.latencyP99Ms} ms declared`
          : `p99 ${old.latencyP99Ms} ms → ${neu.latencyP99Ms} ms`,
        old.latencyP99Ms !== undefined && neu.latencyP99Ms > old.latencyP99Ms,
      );
  }
  const before = rate(old.rateLimit);
  const after = rate(neu.rateLimit);
  if (before !== after) {
    // A limit where there was none, or a lower one, refuses requests callers could make before.
    judge(
      `rate limit ${fmt(old.rateLimit)} → ${fmt(neu.rateLimit)}`,
      after !== undefined && (before === undefined || after < before),
    );
  }
  return out;
}
