/**
 * Consumers against their producers: every event version a consumer declares
 * must be one its producer publishes now, and the consumer's own decoding
 * (`decodeEvent`, as at run time) must accept samples of that version made
 * from the producer's published schema, with only the required fields and
 * with all of them.
 */
import { decodeEvent } from "../events/consumer.ts";
import type { InspectedService } from "./extract.ts";
import { type SampleMode, sampleOf } from "./sample.ts";
import type { Change } from "./types.ts";

/**
 * Problems of the consumers of `services`, checked against the producers among them.
 *
 * @example
 * checkConsumers([await inspectService(runs), await inspectService(stats)]);
 * // → [] or [{ kind: "breaking", where: "stats: consumer stats-update-totals", what: "accepts run.logged v3, which runs does not publish" }]
 */
export function checkConsumers(services: InspectedService[]): Change[] {
  const out: Change[] = [];
  const producers = new Map(services.map((s) => [s.contract.service, s.contract]));
  for (const { contract, consumers } of services) {
    for (const consumer of consumers) {
      const where = `${contract.service}: consumer ${consumer.name}`;
      for (const declared of consumer.events) {
        const name = `${declared.type} v${declared.version}`;
        const producer = producers.get(declared.service);
        if (!producer) {
          out.push({
            kind: "breaking",
            where,
            what: `accepts ${name} of ${declared.service}, which has no contract here`,
          });
          continue;
        }
        const published = producer.events.find(
          (e) => e.type === declared.type && e.version === declared.version,
        );
        if (!published) {
          out.push({
            kind: "breaking",
            where,
            what: `accepts ${name}, which ${declared.service} does not publish`,
          });
          continue;
        }
        for (const mode of ["minimal", "full"] as SampleMode[]) {
          const problem = decodeProblem(consumer, declared, published.schema, mode);
          if (problem)
            out.push({ kind: "breaking", where, what: `does not decode a ${mode} ${name}: ${problem}` });
        }
      }
    }
  }
  return out;
}

function decodeProblem(
  consumer: InspectedService["consumers"][number],
  event: { type: string; version: number },
  schema: unknown,
  mode: SampleMode,
): string | null {
  try {
    const envelope = {
      id: crypto.randomUUID(),
      type: event.type,
      version: event.version,
      occurredAt: new Date().toISOString(),
      data: sampleOf(schema, mode),
    };
    decodeEvent(consumer, new TextEncoder().encode(JSON.stringify(envelope)));
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
