/**
 * How large a request head Bun itself must accept so that the edge judges
 * sizes by its own limits (and answers 431/414 as problems): its header and
 * URL limits plus room for the request line, as edge/main.ts passes to its
 * worker processes. In one process the flag is the process's own.
 */
import { ConfigError, loadConfig } from "../../edge/config.ts";

/** At least what `npm test` gives Bun (65536). */
const floor = 65_536;

/**
 * Bytes for `bun --max-http-header-size=…`, from the edge's configuration in `env`
 * (a bad configuration is the edge worker's to report; the floor stands then).
 *
 * @example
 * Bun.spawn([process.execPath, `--max-http-header-size=${bunHeaderRoom(process.env)}`, "scripts/single.ts"]);
 */
export function bunHeaderRoom(env: Record<string, string | undefined>): number {
  try {
    const c = loadConfig(env);
    return Math.max(floor, c.EDGE_MAX_HEADER_BYTES + c.EDGE_MAX_URL_BYTES + 16 * 1024);
  } catch (err) {
    if (err instanceof ConfigError) return floor;
    throw err;
  }
}
