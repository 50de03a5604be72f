/**
 * Snapshot files: `contracts/<service>.json`, pretty JSON with a fixed order
 * at the top (service, version, rpc, events, consumes, tasks, slo, openapi) and sorted
 * keys below it, so the same contract always writes the same text.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sortKeys } from "./json-schema.ts";
import type { Contract } from "./types.ts";

/** The text of a snapshot file. */
export function snapshotText(c: Contract): string {
  const ordered = {
    service: c.service,
    version: c.version,
    rpc: sortKeys(c.rpc),
    events: sortKeys(c.events),
    consumes: sortKeys(c.consumes),
    ...(c.tasks ? { tasks: { works: sortKeys(c.tasks.works), submits: sortKeys(c.tasks.submits) } } : {}),
    ...(c.slo ? { slo: sortKeys(c.slo) } : {}),
    openapi: sortKeys(c.openapi),
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

export const snapshotFile = (dir: string, service: string): string => join(dir, `${service}.json`);

/** The snapshot of a service, or null when it has none. */
export function readSnapshot(dir: string, service: string): Contract | null {
  const file = snapshotFile(dir, service);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Contract;
  } catch (err) {
    throw new Error(
      `${file} is not valid JSON (${err instanceof Error ? err.message : err}); restore it from git`,
    );
  }
}

/** Writes a snapshot; returns false when the file already had this text. */
export function writeSnapshot(dir: string, c: Contract): boolean {
  mkdirSync(dir, { recursive: true });
  const file = snapshotFile(dir, c.service);
  const text = snapshotText(c);
  if (existsSync(file) && readFileSync(file, "utf8") === text) return false;
  writeFileSync(file, text);
  return true;
}

/** Services that have a snapshot file in `dir`. */
export function snapshotServices(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -".json".length))
    .sort();
}

export function removeSnapshot(dir: string, service: string): void {
  rmSync(snapshotFile(dir, service), { force: true });
}
