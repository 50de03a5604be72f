/**
 * Two small services for the tracing tests, one request touching every hop:
 * `POST /api/caller/work` calls `callee.double` by RPC and emits
 * `work.done` through the outbox; the callee consumes that event.
 * Neither passes trace context by hand: the kit does.
 */
import { z } from "zod";
import { defineConsumer, defineEvent } from "../../events/index.ts";
import { createRpcClient, defineRpc } from "../../rpc/index.ts";
import { defineService } from "../../service/index.ts";
import { createRouter } from "../../service/router.ts";
import * as schema from "../../testing/fixture/schema.ts";

const migrationsFolder = new URL("../../testing/fixture/drizzle", import.meta.url).pathname;

export const calleeRpc = defineRpc("callee", {
  double: { input: z.object({ n: z.number() }), output: z.object({ n: z.number() }) },
});

export const workDone = defineEvent("caller", "work.done", 1, z.object({ id: z.number(), n: z.number() }));

export const caller = defineService({
  name: "caller",
  version: "1.0.0",
  schema,
  migrationsFolder,
  events: [workDone],
  calls: ["svc.callee.rpc.double"],
  routes: ({ nc, store, outbox, logger }) => {
    const callee = createRpcClient(nc, calleeRpc, { timeoutMs: 2000 });
    const app = createRouter();
    app.post("/work", async (c) => {
      const { n } = await callee.double({ n: 21 }, { meta: c.get("mesh") });
      const item = await store.write(async (tx) => {
        const row = await tx
          .insert(schema.items)
          .values({ owner: "ann", name: "work", qty: n })
          .returning()
          .get();
        await outbox.emit(tx, workDone, { id: row.id, n }, { aggregate: String(row.id) });
        return row;
      });
      c.get("log").info({ id: item.id }, "work done");
      // The service's own logger, bound to no request: the active span names the trace.
      logger.info({ id: item.id }, "work recorded");
      return c.json({ id: item.id, n }, 201);
    });
    return app;
  },
});

export const countWork = defineConsumer<typeof schema>({
  name: "callee-count-work",
  events: [workDone],
  async handle(tx, event, ctx) {
    const data = event.data as { n: number };
    await tx.insert(schema.tallies).values({ owner: "ann", total: data.n, events: 1 }).run();
    ctx.logger.info({ eventId: event.id, traceparent: ctx.traceparent }, "work counted");
  },
});

export const callee = defineService({
  name: "callee",
  version: "1.0.0",
  schema,
  migrationsFolder,
  consumers: () => [countWork],
  rpc: { contract: calleeRpc, handlers: () => ({ double: async ({ n }) => ({ n: n * 2 }) }) },
});
