/**
 * The Moleculer peer's `bench` service: a `hello` action with no database work
 * and an `item` action reading one runs-shaped row by id through
 * @libsql/client from a SQLite file seeded with the same rows as the kit's store.
 *
 *   NATS_URL=nats://127.0.0.1:4222 PEER_DB=.data/bench/peer.db bun bench/peer/bench-service.ts
 */
import { createClient } from "@libsql/client";
import { type Context, Errors, ServiceBroker } from "moleculer";
import { type BenchRow, bytesBody, HELLO } from "../payloads.ts";

const db = createClient({ url: `file:${process.env.PEER_DB ?? ".data/bench/peer.db"}` });

const SELECT_ITEM = `SELECT id, owner, distance_m AS distanceM, duration_s AS durationS, started_at AS startedAt,
  kind, notes, created_at AS createdAt, updated_at AS updatedAt FROM items WHERE id = ?`;

const broker = new ServiceBroker({
  nodeID: `bench-${process.pid}`,
  transporter: { type: "NATS", options: { url: process.env.NATS_URL ?? "nats://127.0.0.1:4222" } },
  logger: { type: "Console", options: { level: "warn" } },
  metrics: false,
  tracing: false,
});

broker.createService({
  name: "bench",
  actions: {
    hello: () => HELLO,
    async item(ctx: Context<{ id: string }>): Promise<BenchRow> {
      const rs = await db.execute({ sql: SELECT_ITEM, args: [ctx.params.id] });
      const row = rs.rows[0];
      if (!row) throw new Errors.MoleculerClientError("item not found", 404, "NOT_FOUND");
      // A plain object like drizzle returns (libsql rows also index by position).
      return { ...row } as unknown as BenchRow;
    },
    bytes(ctx: Context<{ n: string }, { $responseType?: string }>) {
      ctx.meta.$responseType = "application/octet-stream";
      return Buffer.from(bytesBody(Number(ctx.params.n)));
    },
  },
});

await broker.start();
console.log("moleculer bench service started");
process.on("SIGTERM", () => {
  void broker.stop().then(() => process.exit(0));
});
