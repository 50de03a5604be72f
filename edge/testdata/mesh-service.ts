/**
 * A small kit service run as its own Bun process by the edge's failover tests
 * (a real process can be SIGKILLed; an in-process service cannot die that way).
 * It keeps items in the kit's fixture schema, in one SQLite file shared by
 * every instance, and takes the kit's Idempotency-Key support as it comes.
 *
 *   NATS_URL=… DATA_DIR=… [SERVICE_NAME=mesh] [HOLD_POSTS=1] bun edge/testdata/mesh-service.ts
 *
 * With `HOLD_POSTS=1` a `POST /items` inserts its row and then never answers:
 * it publishes its instance id on `edge-test.holding` and waits (inside its
 * transaction) until the process is killed, like an instance that dies after
 * taking a request and before replying.
 *
 * `GET /hello` answers with its instance id and pid; `?delay=ms` holds it,
 * `?fail=<instance id>` (or `all`) makes that instance answer 503.
 * SIGUSR1 makes every answer of `GET /hello` 100 ms slower (a noisy neighbour,
 * a slow disk); SIGUSR2 makes it fast again. It says so on stderr.
 */

import { createRouter, defineService, runService } from "@runnerly/kit";
import { fixtureMigrationsFolder, fixtureSchema as schema } from "@runnerly/kit/testing/fixture";
import { count } from "drizzle-orm";
import { HOLDING_SUBJECT } from "./spawn.ts";

const holdPosts = process.env.HOLD_POSTS === "1";
let addedMs = 0;
process.on("SIGUSR1", () => {
  addedMs = 100;
  console.error(`mesh-service ${process.pid}: answers slowed by ${addedMs} ms`);
});
process.on("SIGUSR2", () => {
  addedMs = 0;
  console.error(`mesh-service ${process.pid}: answers at full speed`);
});

const service = defineService({
  name: process.env.SERVICE_NAME ?? "mesh",
  version: "1.0.0",
  schema,
  migrationsFolder: fixtureMigrationsFolder,
  routes: ({ store, nc, instanceId }) => {
    const app = createRouter();
    // `?delay=ms` keeps requests in flight, so a kill finds some to lose.
    // `?fail=<instance id>` (or `all`): that instance answers 503, as one failing instance would.
    app.get("/hello", async (c) => {
      const delay = Number(c.req.query("delay") ?? 0) + addedMs;
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      const fail = c.req.query("fail");
      if (fail === instanceId || fail === "all") return c.json({ instance: instanceId, failed: true }, 503);
      return c.json({ instance: instanceId, pid: process.pid });
    });
    app.post("/items", async (c) => {
      const { name } = (await c.req.json()) as { name: string };
      const row = await store.write((tx) =>
        tx.insert(schema.items).values({ owner: "anyone", name, qty: 1 }).returning().get(),
      );
      if (holdPosts) {
        nc.publish(HOLDING_SUBJECT, instanceId);
        await new Promise(() => {}); // until SIGKILL
      }
      return c.json({ ...row, instance: instanceId }, 201);
    });
    app.get("/count", async (c) => {
      const [row] = await store.db.select({ n: count() }).from(schema.items);
      return c.json({ count: row?.n ?? 0 });
    });
    return app;
  },
});

await runService(service);
