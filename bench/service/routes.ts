/**
 * The bench service's routes: one with no database work, one point read of a
 * runs-shaped row by id, and one answering n bytes for the response-size rows.
 * No owner check: the edge does not verify tokens yet, so it cannot set Mesh-User.
 */
import { createRouter, MeshError, type Store } from "@runnerly/kit";
import { eq } from "drizzle-orm";
import { bytesBody, HELLO, MAX_BYTES } from "../payloads.ts";
import * as schema from "./db/schema.ts";

/** The routes, relative to the service's prefix `/api/bench`. */
export function benchRoutes(store: Store<typeof schema>) {
  const app = createRouter();
  app.get("/hello", (c) => c.json(HELLO));
  app.get("/items/:id", async function readItem(c) {
    const row = await store.db
      .select()
      .from(schema.items)
      .where(eq(schema.items.id, c.req.param("id")))
      .get();
    if (!row) throw new MeshError(404, { detail: "item not found" });
    return c.json(row);
  });
  app.get("/bytes/:n", function sendBytes(c) {
    const n = Number(c.req.param("n"));
    if (!Number.isInteger(n) || n < 0 || n > MAX_BYTES) {
      throw new MeshError(400, { detail: `n must be a whole number from 0 to ${MAX_BYTES}` });
    }
    return new Response(bytesBody(n), { headers: { "content-type": "application/octet-stream" } });
  });
  return app;
}
