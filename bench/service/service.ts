/** The bench service: a kit service shaped like runs, serving the benchmark's routes. */
import { defineService } from "@runnerly/kit";
import * as schema from "./db/schema.ts";
import { benchRoutes } from "./routes.ts";

export const service = defineService({
  name: "bench",
  version: "1.0.0",
  description: "Benchmark routes: hello (no DB), a point read by id, n bytes.",
  schema,
  migrationsFolder: new URL("./drizzle", import.meta.url).pathname,
  routes: ({ store }) => benchRoutes(store),
});
