/**
 * What each service folder needs on NATS, read from its `service.ts`
 * definition (the export named `service`) without starting it. A folder
 * without one gets the least a service can have: its own subjects, no events,
 * no consumers, no calls.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ServiceDefinition } from "@runnerly/kit";
import { describeService, type ServiceAccess } from "@runnerly/kit/security";
import type { ServiceEntry } from "./services.ts";

/** A service folder and its NATS description (the user is `access.name`, the definition's name). */
export type DescribedService = {
  entry: ServiceEntry;
  access: ServiceAccess;
  /** Its definition, when its service.ts has one: what the provisioner reads. */
  definition?: ServiceDefinition<Record<string, unknown>, never>;
  warning?: string;
};

/**
 * Describes each service folder.
 *
 * @example
 * const described = await describeServices(findServices("services"));
 * const users = natsUsers(described.map((d) => d.access));
 */
export async function describeServices(entries: ServiceEntry[]): Promise<DescribedService[]> {
  const out: DescribedService[] = [];
  for (const entry of entries) {
    const file = join(entry.dir, "service.ts");
    const minimal: ServiceAccess = { name: entry.name, events: false, consumes: [], calls: [] };
    if (!existsSync(file)) {
      out.push({
        entry,
        access: minimal,
        warning: `${entry.name}: no service.ts; it gets only its own subjects`,
      });
      continue;
    }
    try {
      const mod = (await import(file)) as { service?: ServiceDefinition<Record<string, unknown>, never> };
      if (!mod.service?.name) throw new Error("service.ts has no `service` export made by defineService");
      out.push({ entry, access: describeService(mod.service), definition: mod.service });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      out.push({ entry, access: minimal, warning: `${entry.name}: ${why}; it gets only its own subjects` });
    }
  }
  return out;
}
