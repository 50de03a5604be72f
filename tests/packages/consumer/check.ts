/**
 * Run with `bun check.ts` in the project that installed the packed kit: starts
 * a real nats-server with the kit's testing helper, runs greeter.ts as its own
 * process, asks its route over NATS as the edge would, and loads the kit's
 * built JavaScript. Prints one JSON line with what it saw; exits 1 on failure.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectNats, silentLogger } from "@runnerly/kit";
import { meshFetch, NatsServer, startScript, waitFor } from "@runnerly/kit/testing";

const nats = await NatsServer.start();
const dataDir = mkdtempSync(join(tmpdir(), "kit-consumer-data-"));
const service = startScript([join(import.meta.dir, "greeter.ts")], {
  PATH: process.env.PATH ?? "",
  NATS_URL: nats.url,
  DATA_DIR: dataDir,
  LOG_LEVEL: "warn",
});
const nc = await connectNats({ servers: nats.url, name: "kit-consumer-check", logger: silentLogger });
try {
  const reply = await waitFor(
    async () => {
      const res = await meshFetch(nc, "greeter", "/api/greeter/hello?name=outside", { timeoutMs: 1000 });
      return res.status === 200 ? { status: res.status, body: await res.json() } : null;
    },
    { timeoutMs: 20_000, what: "greeter answering over NATS" },
  );
  const built = await import(join(import.meta.dir, "node_modules/@runnerly/kit/dist/mod.js"));
  const resolved = import.meta.resolve("@runnerly/kit");
  console.log(JSON.stringify({ reply, resolved, builtDefineService: typeof built.defineService }));
} catch (err) {
  console.error(String(err), service.output());
  process.exitCode = 1;
} finally {
  await nc.close();
  service.proc.kill("SIGTERM");
  await service.proc.exited;
  await nats.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
