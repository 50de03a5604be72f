/** The greeter service: says hello, and remembers how often it said it to whom. */
import { defineService } from "@runnerly/kit";
import * as schema from "./db/schema.ts";
import { greeterRoutes } from "./routes.ts";

export const service = defineService({
  name: "greeter",
  version: "0.1.0",
  description: "Greeter: says hello and counts the greetings per name.",
  schema,
  migrationsFolder: new URL("./drizzle", import.meta.url).pathname,
  // Anyone may be greeted: no token needed through the edge.
  publicRoutes: ["GET /hello"],
  routes: ({ store }) => greeterRoutes(store),
});
