/**
 * Consumers against their producers: every event version a consumer declares
 * must be one its producer publishes now, and the consumer's own decoding
 * (`decodeEvent`, as at run time) must accept samples of that version made
 * from the producer's published schema, with only the required fields and
 * with all of them. Requesters against the owners of the tasks they submit,
 * the same way: the owner must work that task at that version, accept what
 * the requester's schema lets it send, and answer what its callback accepts.
 */
import type { z } from "zod";
import { decodeEvent } from "../events/consumer.ts";
import type { TaskDefinition } from "../tasks/define.ts";
import { type InspectedService, jsonSchema } from "./extract.ts";
import { type SampleMode, sampleOf } from "./sample.ts";
import type { Change, Contract } from "./types.ts";

const MODES: SampleMode[] = ["minimal", "full"];

/**
 * Problems of the consumers of `services`, checked against the producers among them.
 *
 * @example
 * checkConsumers([await inspectService(runs), await inspectService(stats)]);
 * // → [] or [{ kind: "breaking", where: "stats: consumer stats-update-totals", what: "accepts run.logged v3, which runs does not publish" }]
 */
export function checkConsumers(services: InspectedService[]): Change[] {
  return [...checkEventConsumers(services), ...checkRequesters(services)];
}

function checkEventConsumers(services: InspectedService[]): Change[] {
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
        for (const mode of MODES) {
          const problem = decodeProblem(consumer, declared, published.schema, mode);
          if (problem)
            out.push({ kind: "breaking", where, what: `does not decode a ${mode} ${name}: ${problem}` });
        }
      }
    }
  }
  return out;
}

/**
 * Every task a service submits must be worked by its owner at that version.
 * What the requester may send (samples of its own copy of the input schema)
 * must pass the owner's input schema, and what the owner may answer (samples
 * of its output schema) must pass the requester's: they differ when the two
 * were built from different versions of the owner's contract.
 *
 * @example
 * checkRequesters([await inspectService(tasker), await inspectService(asker)]);
 * // → [{ kind: "breaking", where: "asker: submits task tasker/square v2", what: "tasker works square v1, not v2" }]
 */
function checkRequesters(services: InspectedService[]): Change[] {
  const out: Change[] = [];
  const owners = new Map(services.map((s) => [s.contract.service, s]));
  for (const { contract, tasks } of services) {
    for (const task of tasks.submits) {
      const name = `${task.name} v${task.version}`;
      const where = `${contract.service}: submits task ${task.service}/${name}`;
      const owner = owners.get(task.service);
      if (!owner) {
        out.push({ kind: "breaking", where, what: `${task.service} has no contract here` });
        continue;
      }
      const worked = owner.tasks.works.find((t) => t.name === task.name && t.version === task.version);
      if (!worked) {
        out.push({ kind: "breaking", where, what: notWorked(owner.contract, task) });
        continue;
      }
      for (const mode of MODES) {
        const sent = parseProblem(task.input, worked.input, mode);
        if (sent)
          out.push({ kind: "breaking", where, what: `${task.service} refuses a ${mode} input: ${sent}` });
        const answered = parseProblem(worked.output, task.output, mode);
        if (answered)
          out.push({ kind: "breaking", where, what: `its callbacks refuse a ${mode} output: ${answered}` });
      }
    }
  }
  return out;
}

/** `tasker works square v1, not v2` or `tasker does not work square v1`. */
function notWorked(owner: Contract, task: TaskDefinition): string {
  const versions = (owner.tasks?.works ?? []).filter((t) => t.name === task.name).map((t) => `v${t.version}`);
  return versions.length
    ? `${owner.service} works ${task.name} ${versions.join(", ")}, not v${task.version}`
    : `${owner.service} does not work ${task.name} v${task.version}`;
}

/** Why `reader` refuses a sample of what `writer` allows, or null when it accepts it. */
function parseProblem(writer: z.ZodType, reader: z.ZodType, mode: SampleMode): string | null {
  try {
    const sample = sampleOf(jsonSchema(writer, "output"), mode);
    const parsed = reader.safeParse(sample);
    return parsed.success
      ? null
      : parsed.error.issues.map((i) => `${i.path.join(".") || "value"}: ${i.message}`).join("; ");
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
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
