import { runService } from "@runnerly/kit";
import { service } from "./service.ts";

// Not awaited: `runnerly build` bundles this file as CommonJS, which has no top-level await.
void runService(service);
