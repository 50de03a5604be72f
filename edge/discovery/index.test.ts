import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { Svcm } from "@nats-io/services";
import {
  addHttpService,
  announce,
  connect,
  recordingLogger,
  respondText,
  startEdge,
  waitFor,
} from "../test-utils.ts";
import { natsPerFile } from "../testdata/per-file.ts";

// Room for a loaded CI machine; every wait inside a test has its own, shorter bound.
setDefaultTimeout(15_000);

const { server, cleanup } = natsPerFile();

async function setup(sweepIntervalMs: number) {
  const edgeNc = await connect(server().url, "edge");
  cleanup.add(() => edgeNc.close());
  const svcNc = await connect(server().url, "services");
  cleanup.add(() => svcNc.close());
  const logger = recordingLogger();
  const edge = await startEdge({ nc: edgeNc, logger, sweepIntervalMs });
  cleanup.add(() => edge.close());
  return { edge, svcNc, logger };
}

describe("discovery", () => {
  test("an announced start is routable at once, and an announced stop is removed at once (no sweep runs)", async () => {
    const { edge, svcNc } = await setup(600_000);
    const service = await addHttpService(svcNc, {
      name: "herald",
      prefix: "/api/herald",
      version: "0.3.0",
      handler: (msg) => respondText(msg, 200, "hi"),
    });
    expect(edge.routes.match("/api/herald")).toBeNull(); // the first sweep ran before it existed

    await announce(svcNc, "started", service);
    const route = await waitFor(() => edge.routes.match("/api/herald"), { timeoutMs: 1000, what: "herald" });
    expect(route.instances).toEqual([{ id: service.info().id, version: "0.3.0", subject: null }]);
    expect((await edge.app.request("/api/herald")).status).toBe(200);

    await announce(svcNc, "stopped", service);
    await waitFor(() => edge.routes.match("/api/herald")?.instances.length === 0, {
      timeoutMs: 1000,
      what: "herald removed",
    });
    await service.stop();
  });

  test("a service that never announces is found by the sweep", async () => {
    const { edge, svcNc } = await setup(100);
    await addHttpService(svcNc, {
      name: "quiet",
      prefix: "/api/quiet",
      handler: (m) => respondText(m, 200, "shh"),
    });
    await waitFor(() => edge.routes.match("/api/quiet"), { timeoutMs: 3000, what: "quiet found by a sweep" });
    expect(await (await edge.app.request("/api/quiet")).text()).toBe("shh");
  });

  test("an instance that stops answering leaves the table by the sweep alone", async () => {
    const { edge } = await setup(100);
    const nc = await connect(server().url, "mortal");
    await addHttpService(nc, {
      name: "mortal",
      prefix: "/api/mortal",
      handler: (m) => respondText(m, 200, ""),
    });
    await waitFor(() => edge.routes.match("/api/mortal")?.instances.length, { what: "mortal found" });
    await nc.close();
    await waitFor(() => edge.routes.match("/api/mortal")?.instances.length === 0, {
      timeoutMs: 3000,
      what: "mortal swept away",
    });
  });

  test("with the default 1 s sweep, a silent service appears within 2 s and a silent death removes it within 2 s", async () => {
    const { edge } = await setup(1000);
    const nc = await connect(server().url, "silent");
    const t0 = performance.now();
    await addHttpService(nc, {
      name: "silent",
      prefix: "/api/silent",
      handler: (m) => respondText(m, 200, ""),
    });
    await waitFor(() => edge.routes.match("/api/silent")?.instances.length, {
      timeoutMs: 2000,
      what: "found",
    });
    expect(performance.now() - t0).toBeLessThan(2000);
    // No announcement, no traffic: a missed sweep, then a ping nobody answers.
    const t1 = performance.now();
    await nc.close();
    await waitFor(() => edge.routes.match("/api/silent")?.instances.length === 0, {
      timeoutMs: 2000,
      what: "gone",
    });
    expect(performance.now() - t1).toBeLessThan(2000);
  });

  test("services without an http endpoint are not routes; malformed ones are logged once, not routed", async () => {
    const { edge, svcNc, logger } = await setup(100);
    const rpcOnly = await new Svcm(svcNc).add({ name: "rpconly", version: "1.0.0" });
    rpcOnly.addEndpoint("get", { subject: "svc.rpconly.rpc.get", handler: (_e, m) => m.respond("{}") });
    const bad = await new Svcm(svcNc).add({
      name: "bad",
      version: "1.0.0",
      metadata: { "http.prefix": "api/x" },
    });
    bad.addEndpoint("http", { subject: "svc.bad.http", handler: (_e, m) => m.respond("") });
    await addHttpService(svcNc, {
      name: "good",
      prefix: "/api/good",
      handler: (m) => respondText(m, 200, ""),
    });
    await waitFor(() => edge.routes.match("/api/good"), { timeoutMs: 3000, what: "good found" });
    // Count the sweeps themselves (requests on $SRV.INFO) so "once" means once over several sweeps.
    let sweeps = 0;
    svcNc.subscribe("$SRV.INFO", {
      callback: () => {
        sweeps += 1;
      },
    });
    await waitFor(() => sweeps >= 2, { timeoutMs: 5000, what: "two more sweeps" });
    expect(logger.entries.filter((e) => e.msg === "not routable")).toHaveLength(1);
    expect(edge.routes.list().map((r) => r.service)).toEqual(["good"]);
    expect(logger.entries.find((e) => e.msg === "not routable")?.fields).toMatchObject({ service: "bad" });
  });
});
