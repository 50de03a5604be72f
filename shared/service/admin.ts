/**
 * Operator endpoints every service with events answers over NATS (not HTTP):
 * the outbox backlog, dead letters, replaying one, and rebuilding a
 * projection. `svc.<name>.admin.<verb>`; the CLI and dashboards call them.
 */
import type { Service } from "@nats-io/services";
import { desc } from "drizzle-orm";
import { z } from "zod";
import type { Db, Store } from "../db/index.ts";
import { MeshError } from "../errors/index.ts";
import { deadLetters, type EventConsumer, type OutboxRelay } from "../events/index.ts";
import type { Logger } from "../log/logger.ts";
import { defineRpc, serveRpcMessage } from "../rpc/index.ts";

/** The admin contract of service `name`; call it with `createRpcClient(nc, adminRpc("stats"))`. */
export const adminRpc = (name: string) =>
  defineRpc(`${name}.admin`, {
    outbox: { input: z.object({}), output: z.object({ count: z.number(), oldestAgeMs: z.number() }) },
    deadLetters: {
      input: z.object({
        consumer: z.string().optional(),
        limit: z.number().int().min(1).max(1000).default(100),
      }),
      output: z.array(
        z.object({
          id: z.number(),
          consumer: z.string(),
          eventId: z.string(),
          subject: z.string(),
          error: z.string(),
          deliveries: z.number(),
          failedAt: z.number(),
          replayedAt: z.number().nullable(),
        }),
      ),
    },
    replay: {
      input: z.object({ consumer: z.string(), id: z.number().int() }),
      output: z.object({ applied: z.boolean() }),
    },
    rebuild: { input: z.object({ consumer: z.string() }), output: z.object({ applied: z.number() }) },
  });

type AdminOptions = {
  service: Service;
  name: string;
  store: Store<Record<string, unknown>>;
  relay: OutboxRelay | null;
  consumers: EventConsumer[];
  logger: Logger;
  track: (p: Promise<unknown>) => void;
};

/** Adds the admin endpoints to a registered service. */
export function addAdminEndpoints(o: AdminOptions): void {
  const contract = adminRpc(o.name);
  const find = (consumer: string) => {
    const c = o.consumers.find((x) => x.def.name === consumer);
    if (!c) throw new MeshError(404, { detail: `${o.name} has no consumer ${consumer}` });
    return c;
  };
  const handlers: Record<keyof typeof contract.methods, (input: never) => Promise<unknown>> = {
    outbox: async () => (o.relay ? o.relay.backlog() : { count: 0, oldestAgeMs: 0 }),
    deadLetters: async (input: { consumer?: string; limit: number }) => {
      const rows = await (o.store.db as Db<Record<string, unknown>>)
        .select()
        .from(deadLetters)
        .orderBy(desc(deadLetters.id))
        .limit(input.limit);
      return rows
        .filter((r) => !input.consumer || r.consumer === input.consumer)
        .map(({ body: _b, ...r }) => r);
    },
    replay: async (input: { consumer: string; id: number }) =>
      find(input.consumer).replayDeadLetter(input.id),
    rebuild: async (input: { consumer: string }) => find(input.consumer).rebuild(),
  };
  for (const [method, schema] of Object.entries(contract.methods)) {
    const handler = handlers[method as keyof typeof handlers] as (input: unknown) => Promise<unknown>;
    o.service.addEndpoint(`admin-${method}`, {
      subject: `svc.${o.name}.admin.rpc.${method}`,
      metadata: { kind: "admin" },
      handler: (_err, msg) => o.track(serveRpcMessage(schema, handler, msg, o.logger)),
    });
  }
}
