/**
 * A service as a team would write it in its own repository: one public
 * route, defined with the installed `@runnerly/kit` and run by it (no tables, so its
 * migrations folder holds an empty journal).
 */
import { createRouter, defineService, runService } from "@runnerly/kit";

export const greeter = defineService({
  name: "greeter",
  version: "0.1.0",
  schema: {},
  migrationsFolder: new URL("./drizzle", import.meta.url).pathname,
  publicRoutes: ["GET /hello"],
  routes: () => createRouter().get("/hello", (c) => c.json({ hello: c.req.query("name") ?? "world" })),
});

if (import.meta.main) await runService(greeter);
