import { defineConfig } from "drizzle-kit";

/** The kit's own tables (outbox, inbox, dead letters, idempotency keys, tasks sent and worked); `bun run db:generate` here. */
export default defineConfig({
  dialect: "sqlite",
  schema: ["./events/tables.ts", "./service/idempotency.ts", "./tasks/tables.ts"],
  out: "./drizzle",
});
