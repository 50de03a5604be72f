import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { type Announcement, announceSubject } from "@runnerly/kit/web";
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
import { readAnnouncement, throttledWarn } from "./announcements.ts";

setDefaultTimeout(15_000);

const body = (name: string, event = "stopped", id = "ID1") =>
  new TextEncoder().encode(JSON.stringify({ event, name, id, version: "1.0.0" }));

describe("readAnnouncement", () => {
  const runs: Announcement = { event: "stopped", name: "runs", id: "ID1", version: "1.0.0" };
  test.each<[string, string, Uint8Array, Announcement | string]>([
    ["a service's own subject", "mesh.announce.runs", body("runs"), runs],
    ["another service's subject", "mesh.announce.stats", body("runs"), "names runs on the subject of stats"],
    ["the bare subject", "mesh.announce", body("runs"), "names runs on the subject of no service"],
    ["a longer subject", "mesh.announce.runs.x", body("runs"), "names runs on the subject of no service"],
    ["an unknown event", "mesh.announce.runs", body("runs", "restarted"), "not an announcement"],
    [
      "an id that is no ADR-32 name",
      "mesh.announce.runs",
      body("runs", "stopped", "a.b"),
      "not an announcement",
    ],
    ["a name that is no ADR-32 name", "mesh.announce.r.s", body("r.s"), "not an announcement"],
    ["a body that is not JSON", "mesh.announce.runs", new TextEncoder().encode("{"), "not an announcement"],
  ])("%s", (_what, subject, data, expected) => {
    expect(readAnnouncement(subject, data)).toEqual(expected);
  });
});

describe("throttledWarn", () => {
  test("one warning per period for one message, the next one counting those held back", () => {
    let now = 0;
    const logger = recordingLogger();
    const warn = throttledWarn(logger, 10_000, () => now);
    for (let i = 0; i < 500; i++) warn({ i }, "ignoring an announcement");
    warn({}, "another message");
    now = 10_000;
    warn({ i: 500 }, "ignoring an announcement");
    expect(logger.entries.map((e) => [e.msg, e.fields])).toEqual([
      ["ignoring an announcement", { i: 0 }],
      ["another message", {}],
      ["ignoring an announcement", { i: 500, heldBack: 499 }],
    ]);
  });
});

const { server, cleanup } = natsPerFile();

async function setup(sweepIntervalMs: number) {
  const edgeNc = await connect(server().url, "edge");
  cleanup.add(() => edgeNc.close());
  const svcNc = await connect(server().url, "services");
  cleanup.add(() => svcNc.close());
  const logger = recordingLogger();
  const edge = await startEdge({ nc: edgeNc, logger, sweepIntervalMs });
  cleanup.add(() => edge.close());
  const herald = await addHttpService(svcNc, {
    name: "herald",
    prefix: "/api/herald",
    handler: (msg) => respondText(msg, 200, "hi"),
  });
  await announce(svcNc, "started", herald);
  await waitFor(() => edge.routes.match("/api/herald")?.instances.length, { what: "herald routed" });
  const instances = () => edge.routes.match("/api/herald")?.instances.map((i) => i.id);
  return { edge, svcNc, logger, herald, id: herald.info().id, instances };
}

describe("announcements at the edge", () => {
  test("a stop named on another service's subject, or on the bare subject, changes nothing", async () => {
    const { svcNc, logger, id, instances, edge } = await setup(600_000);
    const forged = JSON.stringify({ event: "stopped", name: "herald", id, version: "1.0.0" });
    for (let i = 0; i < 50; i++) svcNc.publish(announceSubject("mallory"), forged);
    svcNc.publish("mesh.announce", forged);
    // Announcements from one connection arrive in order: once this one is acted on, so were those.
    const marker = await addHttpService(svcNc, {
      name: "marker",
      prefix: "/api/marker",
      handler: (m) => respondText(m, 200, ""),
    });
    await announce(svcNc, "started", marker);
    await waitFor(() => edge.routes.match("/api/marker"), { timeoutMs: 2000, what: "marker routed" });

    expect(instances()).toEqual([id]);
    expect((await edge.app.request("/api/herald")).status).toBe(200);
    const warnings = logger.entries.filter((e) => e.msg === "ignoring an announcement");
    expect(warnings.map((e) => e.fields)).toEqual([
      { subject: "mesh.announce.mallory", why: "names herald on the subject of mallory" },
    ]);
  });

  test("a stop that names a service's own instance takes it out at once; if it still answers, it is back within seconds", async () => {
    const { svcNc, logger, herald, id, instances } = await setup(100);
    await announce(svcNc, "stopped", herald);
    await waitFor(() => instances()?.length === 0, { timeoutMs: 500, what: "herald out at once" });

    // It never stopped: the sweeps see it, and once the stop is no longer believed it is routed again.
    await waitFor(() => instances()?.length === 1, { timeoutMs: 6000, what: "herald taken back" });
    expect(instances()).toEqual([id]);
    expect(
      logger.entries.find((e) => e.msg === "instance answers after it announced it stopped")?.fields,
    ).toEqual({ service: "herald", id });
  });

  test("a stop said for another service with this instance's id does not touch it", async () => {
    const { svcNc, instances, id, edge } = await setup(100);
    svcNc.publish(
      announceSubject("mallory"),
      JSON.stringify({ event: "stopped", name: "mallory", id, version: "1.0.0" }),
    );
    await svcNc.flush();
    // Sweeps go on seeing it (an instance the route table ignored would miss two and be dropped).
    let sweeps = 0;
    svcNc.subscribe("$SRV.INFO", {
      callback: () => {
        sweeps += 1;
      },
    });
    await waitFor(() => sweeps >= 4, { timeoutMs: 5000, what: "four more sweeps" });
    expect(instances()).toEqual([id]);
    expect((await edge.app.request("/api/herald")).status).toBe(200);
  });
});
