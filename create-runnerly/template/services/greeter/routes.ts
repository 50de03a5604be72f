/** HTTP routes of the greeter service (relative to /api/greeter). */
import { createRoute } from "@hono/zod-openapi";
import { createRouter, type Store } from "@runnerly/kit";
import { sql } from "drizzle-orm";
import { Greeting, HelloQuery } from "./contract.ts";
import * as schema from "./db/schema.ts";

const hello = createRoute({
  method: "get",
  path: "/hello",
  summary: "Greet someone, and count how often they were greeted",
  request: { query: HelloQuery },
  responses: { 200: { description: "The greeting", content: { "application/json": { schema: Greeting } } } },
});

export function greeterRoutes(store: Store<typeof schema>) {
  const app = createRouter();
  app.openapi(hello, async (c) => {
    const { name } = c.req.valid("query");
    const row = await store.write((tx) =>
      tx
        .insert(schema.greetings)
        .values({ name, times: 1 })
        .onConflictDoUpdate({
          target: schema.greetings.name,
          set: { times: sql`${schema.greetings.times} + 1` },
        })
        .returning()
        .get(),
    );
    return c.json({ message: `Hello, ${name}!`, name, times: row.times }, 200);
  });
  return app;
}
