/** `runnerly creds add` as a process: a new user with its declared permissions, live after a reload. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectNats, silentLogger } from "@runnerly/kit";
import { readCredentials, writeNatsAuth } from "@runnerly/kit/security";
import { NatsServer, PermissionProbe, runScript } from "@runnerly/kit/testing";

setDefaultTimeout(30_000);

let dataDir: string;
let natsDir: string;
let nats: NatsServer;

const services = [
  { name: "runs", events: true, consumes: [], calls: [] },
  {
    name: "stats",
    events: true,
    consumes: [{ stream: "EVENTS_RUNS", durable: "stats-update-totals" }],
    calls: [],
    works: ["report.season"],
  },
];

function runnerly(env: Record<string, string | undefined>, ...args: string[]) {
  return runScript(join(import.meta.dir, "main.ts"), args, { ...env, RUNNERLY_DATA_DIR: dataDir });
}

/** The caller's environment without any NATS settings, as on a developer's shell. */
function bareEnv(): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("NATS_")));
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "runnerly-cli-creds-"));
  natsDir = join(dataDir, "nats");
  const first = await writeNatsAuth(natsDir, { services, added: [], connection: {} });
  nats = await NatsServer.start({ authFile: first.authFile });
  // As the dev launcher does once it knows the URL (passwords stay, so the server needs no reload).
  await writeNatsAuth(natsDir, { services, added: [], connection: { NATS_URL: nats.url } });
});

afterAll(async () => {
  await nats?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("runnerly creds add", () => {
  test("writes a private creds file; after a reload the user has exactly what it declared", async () => {
    const added = await runnerly(
      bareEnv(),
      "creds",
      "add",
      "greeter",
      "--calls",
      "svc.stats.rpc.weeklyTotals",
      "--consumes",
      "EVENTS_RUNS:greeter-audit",
    );
    expect(added.err).toBe("");
    expect(added.code).toBe(0);
    expect(added.out).toContain("_INBOX.greeter");
    const file = join(natsDir, "creds", "greeter.env");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const creds = readCredentials(file);
    expect(creds.NATS_URL).toBe(nats.url);

    await nats.reload();
    const nc = await connectNats({
      servers: nats.url,
      name: "greeter",
      user: creds.NATS_USER,
      pass: creds.NATS_PASS,
      logger: silentLogger,
    });
    const probe = new PermissionProbe(nc);
    expect(await probe.request("svc.stats.rpc.weeklyTotals")).toBe("allowed");
    expect(await probe.request("$JS.API.CONSUMER.INFO.EVENTS_RUNS.greeter-audit")).toBe("allowed");
    expect(await probe.subscribe("svc.greeter.http", "q")).toBe("allowed");
    expect(await probe.request("svc.runs.rpc.anything")).toBe("denied");
    expect(await probe.publish("svc.greeter.http")).toBe("denied");
    expect(await probe.request("$JS.API.CONSUMER.INFO.EVENTS_RUNS.stats-update-totals")).toBe("denied");
    await nc.close();
    // The users that were there keep their passwords.
    const runs = readCredentials(join(natsDir, "creds", "runs.env"));
    const still = await connectNats({
      servers: nats.url,
      name: "runs",
      user: "runs",
      pass: runs.NATS_PASS,
      logger: silentLogger,
    });
    await still.close();
  });

  test("a foreign service's tasks: it submits what it declared, works its own queue, and the owner may answer it", async () => {
    const added = await runnerly(
      bareEnv(),
      "creds",
      "add",
      "coach",
      "--works",
      "plan.review",
      "--submits",
      "stats/report.season",
    );
    expect(added.err).toBe("");
    expect(added.code).toBe(0);
    expect(added.out).toContain("task queues included");
    await nats.reload();
    const connectAs = (name: string) => {
      const creds = readCredentials(join(natsDir, "creds", `${name}.env`));
      return connectNats({
        servers: nats.url,
        name,
        user: creds.NATS_USER,
        pass: creds.NATS_PASS,
        logger: silentLogger,
      });
    };
    const coach = await connectAs("coach");
    const probe = new PermissionProbe(coach);
    expect(await probe.publish("tasks.stats.report.season")).toBe("allowed");
    expect(await probe.publish("tasks.stats.report.monthly")).toBe("denied");
    expect(await probe.request("$JS.API.CONSUMER.INFO.TASKS_COACH.coach-tasks")).toBe("allowed");
    expect(await probe.request("$JS.API.STREAM.CREATE.TASKS_COACH")).toBe("allowed");
    expect(await probe.request("$JS.API.CONSUMER.INFO.RESULTS_COACH.coach-task-results")).toBe("allowed");
    expect(await probe.request("$JS.API.CONSUMER.INFO.TASKS_STATS.stats-tasks")).toBe("denied");
    await coach.close();
    // stats' user was regenerated with the new requester: it may answer coach, and only for the declared task.
    const stats = await connectAs("stats");
    const statsProbe = new PermissionProbe(stats);
    expect(await statsProbe.publish("results.coach.stats.report.season")).toBe("allowed");
    expect(await statsProbe.publish("results.coach.stats.report.monthly")).toBe("denied");
    await stats.close();
  });

  test("bad descriptions are refused with a reason", async () => {
    const cases: [string[], RegExp][] = [
      [["creds", "add", "bad.name"], /must match/],
      [["creds", "add", "edge"], /reserved/],
      [["creds", "add", "x", "--calls", "svc.runs.http"], /RPC subject/],
      [["creds", "add", "x", "--consumes", "EVENTS_RUNS"], /STREAM:durable/],
      [["creds", "add", "x", "--consumes", "EVENTS_RUNS:stats-update-totals"], /both claim/],
      [["creds", "add", "x", "--submits", "report.season"], /owner\/name/],
      [["creds", "add", "x", "--works", "report.>"], /report\.>/],
    ];
    for (const [args, reason] of cases) {
      const r = await runnerly(bareEnv(), ...args);
      expect(`${args.join(" ")} → ${r.code}`).toBe(`${args.join(" ")} → 1`);
      expect(r.err).toMatch(reason);
    }
  });

  test("with no NATS settings of its own, the CLI connects as the dev stack's operator", async () => {
    const ls = await runnerly(bareEnv(), "ls");
    expect(ls.err).toBe("");
    expect(ls.code).toBe(0);
    expect(ls.out).toContain("no services answer $SRV.INFO");
  });
});
