/**
 * The HTTP ceiling: Bun.serve with a Hono app answering the bench service's
 * small JSON on the same path, with nothing in between.
 *
 *   PORT=9000 bun bench/ceilings/http.ts
 */
import { Hono } from "hono";
import { HELLO } from "../payloads.ts";

const app = new Hono();
app.get("/api/bench/hello", (c) => c.json(HELLO));

const server = Bun.serve({ hostname: "127.0.0.1", port: Number(process.env.PORT ?? 0), fetch: app.fetch });
console.log(`http ceiling listening on http://127.0.0.1:${server.port}`);
process.on("SIGTERM", () => {
  void server.stop().then(() => process.exit(0));
});
