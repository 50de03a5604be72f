/** Child process for the store test: N write transactions on a shared file. */
import { silentLogger } from "../../log/logger.ts";
import * as schema from "../../testing/fixture/schema.ts";
import { openStore } from "../index.ts";

const [url, driver, tag, count] = process.argv.slice(2);
const store = await openStore({
  url: url!,
  driver: driver as "bun-sqlite" | "libsql",
  schema,
  migrationsFolder: new URL("../../testing/fixture/drizzle", import.meta.url).pathname,
  logger: silentLogger,
});
for (let i = 0; i < Number(count); i++) {
  await store.write(async (tx) => {
    await tx.insert(schema.items).values({ owner: "race", name: `${tag}${i}`, qty: i });
  });
}
await store.close();
