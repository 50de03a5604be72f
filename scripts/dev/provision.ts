/**
 * Provisions the streams and durables of the service folders, as the
 * provisioner: what `npm run dev` does before it starts the services, and
 * what `runnerly provision` does against any NATS.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { provisionMesh } from "../../shared/events/index.ts";
import { meshProvision } from "../../shared/security/index.ts";
import type { DescribedService } from "./nats-access.ts";

/**
 * Creates or updates every stream and durable the described services need.
 * Returns the failures (each "what: why"); `note` hears every outcome.
 *
 * @example
 * const failed = await provisionServices(nc, await describeServices(findServices("services")), process.env, step);
 */
export async function provisionServices(
  nc: NatsConnection,
  described: DescribedService[],
  env: Record<string, string | undefined>,
  note: (line: string) => void,
): Promise<string[]> {
  const definitions = described.flatMap((d) => (d.definition ? [d.definition] : []));
  const plan = meshProvision(definitions, env);
  if (plan.streams.length === 0 && plan.durables.length === 0) return [];
  const jsm = await jetstreamManager(nc, { timeout: 10_000 });
  return provisionMesh(jsm, plan, (what, outcome, detail) =>
    note(`${what}: ${outcome}${detail ? ` (${detail})` : ""}`),
  );
}
