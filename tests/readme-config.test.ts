/**
 * README.md's Configuration tables agree with the schemas the programs read:
 * every key of a schema is in a table with its default, and the tables list
 * no key that no schema has. Defaults live in the schemas (the edge's in
 * edge/defaults.ts), so a changed default fails here until the README follows.
 */
import { describe, expect, test } from "bun:test";
import { availableParallelism } from "node:os";
import { serviceConfigSchema } from "@runnerly/kit";
import type { z } from "zod";
import { EdgeConfigSchema, WsEdgeConfigSchema } from "../edge/config.ts";
import { accountsSettingsSchema } from "../services/accounts/settings.ts";
import { plansConfig } from "../services/plans/service.ts";
import { runsSettingsSchema } from "../services/runs/settings.ts";

const SCHEMAS: Record<string, z.ZodObject> = {
  "the kit's services": serviceConfigSchema,
  "the edge on Bun": EdgeConfigSchema,
  "the edge on Deno and workerd": WsEdgeConfigSchema,
  accounts: accountsSettingsSchema,
  plans: plansConfig,
  runs: runsSettingsSchema,
};

/** Defaults worked out at start-up, which README states in words. */
const COMPUTED: Record<string, { readme: string; value?: unknown }> = {
  DATABASE_URL: { readme: "`file:<DATA_DIR>/<name>.db`" },
  EDGE_WORKERS: { readme: "one per core" },
  IMPORT_WORKERS: { readme: "cores − 1, at least 1", value: Math.max(1, availableParallelism() - 1) },
};

/** Keys README documents that no schema reads: the OpenTelemetry SDK's own (shared/trace/sdk.ts). */
const READ_ELSEWHERE = new Set(["OTEL_EXPORTER_OTLP_ENDPOINT"]);

type Row = { keys: string[]; defaults: string };

/** The rows of every table with a `key` and a `default` column in README's Configuration section. */
function configRows(readme: string): Row[] {
  const start = readme.indexOf("\n## Configuration\n");
  const end = readme.indexOf("\n## ", start + 1);
  const cells = (line: string) =>
    line
      .trim()
      .replace(/^\||\|$/g, "")
      .split("|")
      .map((c) => c.trim());
  const rows: Row[] = [];
  let columns: string[] | null = null;
  for (const line of readme.slice(start, end === -1 ? undefined : end).split("\n")) {
    if (!line.startsWith("|")) {
      columns = null;
      continue;
    }
    if (!columns) {
      columns = cells(line);
      continue;
    }
    const keyAt = columns.indexOf("key");
    const defaultAt = columns.indexOf("default");
    if (keyAt === -1 || defaultAt === -1 || /^\|[\s|:-]+\|$/.test(line.trim())) continue;
    const row = cells(line);
    const keys = [...(row[keyAt] ?? "").matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1] ?? "");
    rows.push({ keys, defaults: row[defaultAt] ?? "" });
  }
  return rows;
}

/** The value a key takes when unset, before any transform; undefined when it has none. */
function defaultOf(schema: z.ZodType): unknown {
  const def = schema._zod.def as { type: string; defaultValue?: unknown; in?: z.ZodType };
  if (def.type === "default") return def.defaultValue;
  if (def.type === "pipe" && def.in) return defaultOf(def.in);
  return undefined;
}

const UNITS: Record<string, number> = { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };
const SECONDS: Record<string, number> = { s: 1, min: 60, h: 3600, d: 86_400 };

/** README's `32 MiB`, `1 h` or `0.2` as the number the schema holds for `key`. */
function readmeNumber(text: string, key: string): number {
  const m = /^(\d+(?:\.\d+)?)(?:\s*(KiB|MiB|GiB|s|min|h|d))?$/.exec(text);
  if (!m) return Number.NaN;
  const unit = m[2];
  const n = Number(m[1]);
  if (!unit) return n;
  if (unit in UNITS) return n * (UNITS[unit] ?? Number.NaN);
  return n * (SECONDS[unit] ?? Number.NaN) * (key.endsWith("_MS") ? 1000 : 1);
}

/** Every way README and the schemas disagree, one line each; none when they agree. */
function configDrift(readme: string, schemas: Record<string, z.ZodObject>): string[] {
  const problems: string[] = [];
  const defaults = new Map<string, unknown>();
  for (const [name, schema] of Object.entries(schemas)) {
    for (const [key, field] of Object.entries(schema.shape)) {
      const value = defaultOf(field as z.ZodType);
      if (defaults.has(key) && defaults.get(key) !== value) {
        problems.push(`${key}: ${name} defaults it to ${JSON.stringify(value)}, another schema otherwise`);
      }
      defaults.set(key, value);
    }
  }
  const documented = new Set<string>();
  for (const row of configRows(readme)) {
    const parts = row.defaults.split(/,\s+(?=`|–)/);
    row.keys.forEach((key, i) => {
      if (documented.has(key)) problems.push(`${key}: in two rows of README`);
      documented.add(key);
      if (READ_ELSEWHERE.has(key)) return;
      if (!defaults.has(key)) {
        problems.push(`${key}: in README, in no schema`);
        return;
      }
      const text = (parts.length === row.keys.length ? parts[i] : row.defaults)?.trim() ?? "";
      const expected = defaults.get(key);
      const computed = COMPUTED[key];
      if (computed) {
        if (text !== computed.readme)
          problems.push(`${key}: README says ${text}, expected ${computed.readme}`);
        if ("value" in computed && expected !== computed.value) {
          problems.push(
            `${key}: the schema's default is ${JSON.stringify(expected)}, not ${computed.readme}`,
          );
        }
        return;
      }
      if (expected === undefined || expected === "") {
        if (!text.startsWith("–"))
          problems.push(`${key}: README says ${text}, the schema has no default (–)`);
        return;
      }
      const shown = /^`([^`]*)`$/.exec(text)?.[1];
      const same =
        shown !== undefined &&
        (typeof expected === "number" ? readmeNumber(shown, key) === expected : shown === String(expected));
      if (!same)
        problems.push(`${key}: README says ${text || "nothing"}, the schema's default is ${expected}`);
    });
  }
  for (const key of defaults.keys()) {
    if (!documented.has(key)) problems.push(`${key}: in a schema, in no README table`);
  }
  return problems;
}

describe("README.md's Configuration tables", () => {
  const readme = Bun.file(new URL("../README.md", import.meta.url).pathname).text();

  test("name every key the schemas read, with the schemas' defaults, and no other key", async () => {
    expect(configDrift(await readme, SCHEMAS)).toEqual([]);
  });

  test("a changed default, a key left out and a key no program reads are each found", async () => {
    const drifted = (await readme)
      .replace("| `EDGE_TIMEOUT_MS` | `10000` |", "| `EDGE_TIMEOUT_MS` | `5000` |")
      .replace(/^\| `EVENTS_REPLICAS` .*\n/m, "")
      .replace("| `LOGIN_LIMITS` |", "| `LOGIN_LIMITS`, `LOGIN_SPEED` |");
    expect(configDrift(drifted, SCHEMAS).sort()).toEqual([
      "EDGE_TIMEOUT_MS: README says `5000`, the schema's default is 10000",
      "EVENTS_REPLICAS: in a schema, in no README table",
      "LOGIN_SPEED: in README, in no schema",
    ]);
  });
});
