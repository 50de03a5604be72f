/** Runs one fixture service as its own process: `TASK_FIXTURE=tasker|asker bun shared/tasks/testdata/main.ts` (TASK_MAX_DELIVER: the deliveries of tasker's always-fails). */
import { runService } from "../../service/run.ts";
import { askerService, taskerService } from "./services.ts";

const maxDeliver = process.env.TASK_MAX_DELIVER ? Number(process.env.TASK_MAX_DELIVER) : undefined;
await runService(
  process.env.TASK_FIXTURE === "asker" ? askerService() : taskerService(maxDeliver ? { maxDeliver } : {}),
);
