import { runService } from "@runnerly/kit";
import { service } from "./service.ts";

await runService(service);
