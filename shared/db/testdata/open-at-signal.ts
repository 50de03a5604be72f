/**
 * Child process for the kit-migration test: loads everything, says "ready",
 * waits for a line on stdin, then opens the store (applying migrations) and
 * closes it, so that several of them open one file at the same moment.
 */
import { silentLogger } from "../../log/logger.ts";
import * as schema from "../../testing/fixture/schema.ts";
import { openStore } from "../index.ts";

const [url, driver] = process.argv.slice(2);
process.stdout.write("ready\n");
for await (const _ of console) break;
const store = await openStore({
  url: url!,
  driver: driver as "bun-sqlite" | "libsql",
  schema,
  migrationsFolder: new URL("../../testing/fixture/drizzle", import.meta.url).pathname,
  logger: silentLogger,
});
await store.close();
