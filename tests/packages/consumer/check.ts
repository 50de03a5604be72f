/**
 * Run with `bun check.ts` in the project that installed the packed kit and
 * edge: starts a real nats-server with the kit's testing helper, runs
 * greeter.ts and the installed edge as processes of their own, asks the
 * greeter's route over NATS as the edge would and then over HTTP through the
 * edge, and loads the kit's built JavaScript. Prints one JSON line with what it
 * saw; exits 1 on failure.
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
const edge = startScript([join(import.meta.dir, "node_modules/@runnerly/edge/main.ts")], {
  PATH: process.env.PATH ?? "",
  NATS_URL: nats.url,
  EDGE_HOST: "127.0.0.1",
  EDGE_PORT: "0",
  EDGE_WORKERS: "1",
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
  const edgeUrl = await waitFor(() => /edge listening on (http:\/\/[^"\s]+)/.exec(edge.output())?.[1], {
    timeoutMs: 20_000,
    what: "the edge listening",
  });
  const viaEdge = await waitFor(
    async () => {
      const res = await fetch(`${edgeUrl}/api/greeter/hello?name=edge`);
      return res.status === 200 ? { status: res.status, body: await res.json() } : null;
    },
    { timeoutMs: 20_000, what: "greeter answering through the edge" },
  );
  const built = await import(join(import.meta.dir, "node_modules/@runnerly/kit/dist/mod.js"));
  const resolved = import.meta.resolve("@runnerly/kit");
  console.log(JSON.stringify({ reply, viaEdge, resolved, builtDefineService: typeof built.defineService }));
} catch (err) {
  console.error(String(err), service.output(), edge.output());
  process.exitCode = 1;
} finally {
  await nc.close();
  for (const proc of [edge.proc, service.proc]) proc.kill("SIGTERM");
  await Promise.all([edge.proc.exited, service.proc.exited]);
  await nats.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
