/**
 * Service discovery for the dev launcher: every `<services dir>/<name>/main.ts`
 * is a service, so adding a folder adds a service. A service's own `.env`
 * file (beside its main.ts) overrides the launcher's defaults for it.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export type ServiceEntry = { name: string; dir: string; main: string; envFile: Record<string, string> };

/** The services found under `servicesDir`, sorted by name. */
export function findServices(servicesDir: string): ServiceEntry[] {
  if (!existsSync(servicesDir)) return [];
  return readdirSync(servicesDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(servicesDir, entry.name, "main.ts")))
    .map((entry) => {
      const dir = join(servicesDir, entry.name);
      const envPath = join(dir, ".env");
      const envFile = existsSync(envPath) ? parseEnvFile(readFileSync(envPath, "utf8")) : {};
      return { name: entry.name, dir, main: join(dir, "main.ts"), envFile };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Reads `KEY=value` lines; blank lines and `#` comments are skipped, one pair
 * of surrounding quotes is removed, and `export ` before a key is allowed.
 *
 * @example
 * parseEnvFile('PORT=4101\n# comment\nLOG_LEVEL="debug"') // → { PORT: "4101", LOG_LEVEL: "debug" }
 */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(raw);
    if (!match?.[1]) continue;
    const value = match[2] ?? "";
    const quoted = /^(["'])(.*)\1$/.exec(value);
    env[match[1]] = quoted ? (quoted[2] ?? "") : value;
  }
  return env;
}
