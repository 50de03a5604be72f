/** The shapes of a service's contract as snapshotted under `contracts/<service>.json`. */
import type { ServiceLevels } from "../protocol/levels.ts";

/** A JSON Schema (draft 2020-12, as zod's `z.toJSONSchema` writes it). */
export type JsonSchema = Record<string, unknown> | boolean;

export type EventRef = { service: string; type: string; version: number };

/** A task of another service (or its own) that a service submits. */
export type TaskRef = { service: string; name: string; version: number };

/** A task a service works: what requesters send (`input`) and get back (`output`). */
export type WorkedTask = { name: string; version: number; input: JsonSchema; output: JsonSchema };

/** Everything another party may rely on: HTTP routes, RPC methods, events published and consumed, tasks. */
export type Contract = {
  service: string;
  /** The service's semver; a higher major version allows breaking changes. */
  version: string;
  /** The OpenAPI document the service serves at `<prefix>/openapi.json`. */
  openapi: Record<string, unknown>;
  /** Per RPC method: what callers send (`input`) and get back (`output`). */
  rpc: Record<string, { input: JsonSchema; output: JsonSchema }>;
  /** Events the service publishes, one entry per type and version. */
  events: { type: string; version: number; schema: JsonSchema }[];
  /** Its consumers and every event version each declares it accepts. */
  consumes: { consumer: string; events: EventRef[] }[];
  /**
   * Tasks it works (like RPC methods, one entry per name and version) and
   * tasks it submits (like `consumes`); absent when it does neither.
   */
  tasks?: { works: WorkedTask[]; submits: TaskRef[] };
  /** What it promises (`defineService({ slo })`): availability %, p99 ms, rate limit per caller. */
  slo?: ServiceLevels;
};

/** One difference between a snapshot and the current contract. */
export type Change = {
  kind: "breaking" | "additive";
  /** `runs: GET /api/runs/runs/{id}`, `stats: rpc weeklyTotals`, `runs: event run.logged v1`. */
  where: string;
  /** `response 200 field "distanceM" removed`. */
  what: string;
};
