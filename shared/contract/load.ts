/**
 * Finds the service definitions of a repository: every `<dir>/<name>/service.ts`
 * with a `service` export made by `defineService`.
 */
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { AnyServiceDefinition } from "./extract.ts";

/**
 * Imports each service folder's definition, sorted by name.
 *
 * @example
 * const defs = await loadServiceDefinitions("services"); // [accounts, plans, runs, stats]
 */
export async function loadServiceDefinitions(dir: string): Promise<AnyServiceDefinition[]> {
  const out: AnyServiceDefinition[] = [];
  const folders = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory());
  for (const folder of folders.map((d) => d.name).sort()) {
    const file = resolve(join(dir, folder, "service.ts"));
    if (!existsSync(file)) continue;
    const mod = (await import(file)) as { service?: AnyServiceDefinition };
    if (!mod.service?.name) throw new Error(`${file} has no \`service\` export made by defineService`);
    out.push(mod.service);
  }
  return out;
}
