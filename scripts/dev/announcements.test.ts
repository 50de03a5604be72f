/**
 * Announcements under the NATS users the dev stack generates, against a real
 * nats-server and the real edge: a service may announce only for itself, and
 * what another service's user says about it changes nothing at the edge,
 * while a service's own stop still takes its instance out at once.
 */
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Service } from "@nats-io/services";
import { announceSubject } from "@runnerly/kit";
import { natsUsers, renderAuthorization, type ServiceAccess } from "@runnerly/kit/security";
import { NatsServer, NatsUsers, PermissionProbe, recordingLogger, waitFor } from "@runnerly/kit/testing";
import type { Edge } from "../../edge/app.ts";
import { addHttpService, announce, cleanups, respondText, startEdge } from "../../edge/test-utils.ts";

setDefaultTimeout(20_000);

const plain = (name: string): ServiceAccess => ({ name, events: false, consumes: [], calls: [] });
const users = natsUsers([plain("runs"), plain("stats")]);
// nats-server takes a plain password as well as a bcrypt hash; these never leave the test.
const clients = new NatsUsers(() => nats.url);
const { passwords } = clients;
for (const u of users) passwords.set(u.user, `pw-${u.user}-${crypto.randomUUID()}`);

let nats: NatsServer;
const cleanup = cleanups();

beforeAll(async () => {
  nats = await NatsServer.start({ jetstream: false, auth: renderAuthorization(users, passwords) });
});
afterEach(async () => {
  await cleanup.run();
  await clients.close();
});
afterAll(() => nats?.stop());

/** A connection as one of the generated users, with the inbox its permissions allow. */
const as = (user: string) => clients.as(user);

/** runs and stats registered as any ADR-32 service would, and the edge, each as its own user. */
async function mesh(sweepIntervalMs: number) {
  const [runsNc, statsNc, edgeNc] = [await as("runs"), await as("stats"), await as("edge")];
  const runs = await addHttpService(runsNc, {
    name: "runs",
    prefix: "/api/runs",
    handler: (m) => respondText(m, 200, "runs here"),
  });
  const stats = await addHttpService(statsNc, {
    name: "stats",
    prefix: "/api/stats",
    handler: (m) => respondText(m, 200, "stats here"),
  });
  const logger = recordingLogger();
  const edge = await startEdge({ nc: edgeNc, logger, sweepIntervalMs });
  cleanup.add(() => edge.close());
  // Both found by the edge's first sweep, or by their announcements.
  await announce(runsNc, "started", runs);
  await announce(statsNc, "started", stats);
  await waitFor(() => routedIds(edge, "runs").length && routedIds(edge, "stats").length, {
    what: "runs and stats routed",
  });
  return { runsNc, statsNc, runs, stats, edge, logger, runsId: runs.info().id };
}

function routedIds(edge: Edge, service: string): string[] {
  return (
    edge.routes
      .list()
      .find((r) => r.service === service)
      ?.instances.map((i) => i.id) ?? []
  );
}

/** `GET /_/routes` as the edge answers it: each service's instance ids. */
async function routesPage(edge: Edge): Promise<Record<string, string[]>> {
  const res = await edge.app.request("/_/routes");
  const { routes } = (await res.json()) as { routes: { service: string; instances: { id: string }[] }[] };
  return Object.fromEntries(routes.map((r) => [r.service, r.instances.map((i) => i.id)]));
}

const stoppedBody = (name: string, id: string, svc: Service) =>
  JSON.stringify({ event: "stopped", name, id, version: svc.info().version });

describe("announcements on the secured mesh", () => {
  test("a service's user may announce for itself only; nobody may use the bare subject", async () => {
    const probe = new PermissionProbe(await as("stats"));
    expect(await probe.publish("mesh.announce.stats")).toBe("allowed");
    expect(await probe.publish("mesh.announce.runs")).toBe("denied");
    expect(await probe.publish("mesh.announce")).toBe("denied");
    const edge = new PermissionProbe(await as("edge"));
    expect(await edge.publish("mesh.announce.runs")).toBe("denied");
  });

  test("stats saying on its own subject that runs' instance stopped changes nothing at the edge", async () => {
    const { runsNc, statsNc, stats, edge, logger, runsId } = await mesh(100);
    const before = await routesPage(edge);
    expect(before.runs).toEqual([runsId]);

    // Naming runs: ignored, and said in a warning (which is how we know the edge read it).
    statsNc.publish(announceSubject("stats"), stoppedBody("runs", runsId, stats));
    await waitFor(() => logger.entries.some((e) => e.msg === "ignoring an announcement"), {
      timeoutMs: 2000,
      what: "the edge ignoring the announcement",
    });
    expect(logger.entries.find((e) => e.msg === "ignoring an announcement")?.fields).toEqual({
      subject: "mesh.announce.stats",
      why: "names runs on the subject of stats",
    });
    // Naming itself with runs' instance id: a stop of an instance stats does not have.
    statsNc.publish(announceSubject("stats"), stoppedBody("stats", runsId, stats));
    await statsNc.flush();
    // Several sweeps later (an instance whose replies were ignored would have missed two and gone).
    let sweeps = 0;
    runsNc.subscribe("$SRV.INFO", {
      callback: () => {
        sweeps += 1;
      },
    });
    await waitFor(() => sweeps >= 4, { timeoutMs: 5000, what: "four more sweeps" });

    expect(await routesPage(edge)).toEqual(before);
    const res = await edge.app.request("/api/runs/anything");
    expect([res.status, await res.text()]).toEqual([200, "runs here"]);
  });

  test("a service's own stop takes its instance out at once (no sweep runs)", async () => {
    const { runsNc, runs, edge, runsId } = await mesh(600_000);
    expect((await routesPage(edge)).runs).toEqual([runsId]);
    await announce(runsNc, "stopped", runs);
    await waitFor(async () => (await routesPage(edge)).runs?.length === 0, {
      timeoutMs: 1000,
      what: "runs' instance out of /_/routes",
    });
    await runs.stop();
    expect((await edge.app.request("/api/runs/anything")).status).toBe(503);
  });
});
