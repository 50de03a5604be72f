/** `bun shared/trace/testdata/main.ts caller|callee`: one of the tracing test's services as a process. */
import { runService } from "../../service/run.ts";
import { callee, caller } from "./services.ts";

await runService(process.argv[2] === "callee" ? callee : caller);
