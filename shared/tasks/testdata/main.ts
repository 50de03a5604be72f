/** Runs one fixture service as its own process: `TASK_FIXTURE=tasker|asker bun shared/tasks/testdata/main.ts`. */
import { runService } from "../../service/run.ts";
import { askerService, taskerService } from "./services.ts";

await runService(process.env.TASK_FIXTURE === "asker" ? askerService() : taskerService());
