/**
 * Configuration of the edge on the WebSocket runtimes (Deno, workerd): the
 * Bun edge's keys (EDGE_*, credentials) through its own loader, plus
 * NATS_WS_URL. One ConfigError names every bad key, as on Bun.
 */
import { ConfigError, type EdgeConfig, loadConfig } from "../../config.ts";

export type WsEdgeConfig = EdgeConfig & {
  /** nats-server websocket listeners: `ws://…` locally, `wss://…` across a network. */
  NATS_WS_URL: string[];
};

/**
 * Reads the configuration from an environment record (Deno.env.toObject(),
 * or a worker's `env` bindings). NATS_URL is ignored here; NATS_CREDS is
 * refused because these runtimes have no file to read it from.
 *
 * @example
 * const config = loadWsConfig(Deno.env.toObject()); // throws ConfigError listing every bad key
 */
export function loadWsConfig(env: Record<string, unknown>): WsEdgeConfig {
  const text: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(env)) if (typeof value === "string") text[key] = value;
  const problems: ConfigError["problems"] = [];
  let base: EdgeConfig | undefined;
  try {
    base = loadConfig({ ...text, NATS_URL: undefined });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  const ws = text.NATS_WS_URL?.trim() ?? "";
  const servers = ws.split(",").map((s) => s.trim());
  if (ws === "") {
    problems.push({ key: "NATS_WS_URL", message: "is required: ws:// or wss:// URLs, comma-separated" });
  } else if (!servers.every(isWsUrl)) {
    problems.push({
      key: "NATS_WS_URL",
      message: `must be ws:// or wss:// URLs (got ${JSON.stringify(ws)})`,
    });
  }
  if (text.NATS_CREDS?.trim()) {
    problems.push({
      key: "NATS_CREDS",
      message: "is a file path, which this runtime cannot read: use NATS_USER/NATS_PASS or NATS_TOKEN",
    });
  }
  if (problems.length > 0 || !base) throw new ConfigError(problems);
  return { ...base, NATS_WS_URL: servers };
}

function isWsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "ws:" || url.protocol === "wss:") && url.hostname !== "";
  } catch {
    return false;
  }
}
