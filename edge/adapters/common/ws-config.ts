/**
 * Configuration of the edge on the WebSocket runtimes (Deno, workerd): the
 * Bun edge's keys with NATS_WS_URL required and file keys refused
 * (`WsEdgeConfigSchema` in ../../config.ts), through the kit's loader, so one
 * ConfigError names every bad key, as on Bun.
 */
import { loadConfig } from "@runnerly/kit/web";
import { type WsEdgeConfig, WsEdgeConfigSchema } from "../../config.ts";

export type { WsEdgeConfig };

/**
 * Reads the configuration from an environment record (Deno.env.toObject(),
 * or a worker's `env` bindings, whose non-text values are skipped).
 *
 * @example
 * const config = loadWsConfig(Deno.env.toObject()); // throws ConfigError listing every bad key
 */
export function loadWsConfig(env: Record<string, unknown>): WsEdgeConfig {
  return loadConfig(WsEdgeConfigSchema, env, "edge");
}
