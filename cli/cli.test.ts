/** The `runnerly` command as a process against a real mesh. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { Svcm } from "@nats-io/services";
import { connect } from "@nats-io/transport-node";
import { type RunningService, silentLogger, startService } from "@runnerly/kit";
import {
  freePort,
  meshFetch,
  NatsServer,
  runScript,
  type StartedScript,
  startScript,
  waitFor,
} from "@runnerly/kit/testing";
import { fixtureControl, fixtureService } from "@runnerly/kit/testing/fixture";

/** The kit's task fixtures, run as processes (the kit's test data is not part of its exports). */
const TASK_FIXTURE = join(import.meta.dir, "..", "shared", "tasks", "testdata", "main.ts");

setDefaultTimeout(30_000);

let nats: NatsServer;
let nc: NatsConnection;
const services: RunningService<Record<string, unknown>>[] = [];
/** The task fixtures: `tasker` works square and always-fails (2 deliveries), `asker` submits them. */
const taskFixtures: StartedScript[] = [];
let askerUrl: string;

function runnerly(...args: string[]) {
  return runScript(join(import.meta.dir, "main.ts"), args, { ...process.env, NATS_URL: nats.url });
}

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url });
  const env = (p: string) => ({
    NATS_URL: nats.url,
    DATA_DIR: mkdtempSync(join(tmpdir(), p)),
    LOG_LEVEL: "silent",
  });
  services.push(
    (await startService(fixtureService(), { env: env("cli-p-"), logger: silentLogger })) as never,
  );
  services.push(
    (await startService(fixtureService("tally", "1.0.0", { consume: true }), {
      env: env("cli-c-"),
      logger: silentLogger,
    })) as never,
  );
  const askerPort = await freePort();
  askerUrl = `http://127.0.0.1:${askerPort}`;
  const fixture = (name: string, port: number) =>
    startScript([TASK_FIXTURE], {
      PATH: process.env.PATH ?? "",
      ...env(`cli-${name}-`),
      LOG_LEVEL: "info",
      TASK_FIXTURE: name,
      TASK_MAX_DELIVER: "2",
      PORT: String(port),
    });
  taskFixtures.push(fixture("tasker", await freePort()), fixture("asker", askerPort));
  await waitFor(() => taskFixtures.every((p) => p.output().includes('"service ready"')), {
    timeoutMs: 20_000,
    what: "the task fixtures tasker and asker ready",
  });
});

/** Submits a task through asker's route; its id. */
async function ask(n: number, task: "square" | "always-fails"): Promise<string> {
  const res = await fetch(`${askerUrl}/api/asker/asks`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ n, task }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

afterAll(async () => {
  fixtureControl.rejectUnlucky = true;
  for (const s of services.reverse()) await s.stop();
  for (const p of taskFixtures) {
    if (p.proc.exitCode === null) p.proc.kill("SIGTERM");
    await p.proc.exited;
  }
  await nc?.close();
  await nats?.stop();
});

describe("runnerly", () => {
  test("help and usage errors", async () => {
    const help = await runnerly("--help");
    expect(help.code).toBe(0);
    expect(help.out).toContain("dlq replay <service> <consumer> <id>");
    const usage = await runnerly("dlq", "replay", "tally");
    expect(usage.code).toBe(2);
    expect(usage.err).toContain("usage: runnerly dlq replay");
    expect((await runnerly("frobnicate")).code).toBe(2);
  });

  test("dlq ls shows a poison event; dlq replay applies it once the handler can", async () => {
    fixtureControl.rejectUnlucky = true;
    expect(
      (
        await meshFetch(nc, "fixture", "/api/fixture/items", {
          method: "POST",
          user: "cli",
          json: { name: "x", qty: 13 },
        })
      ).status,
    ).toBe(201);
    const listed = await waitFor(
      async () => {
        const r = await runnerly("dlq", "ls", "tally", "--json");
        const rows = JSON.parse(r.out) as { id: number; error: string }[];
        return rows.find((d) => d.error.includes("unlucky"));
      },
      { timeoutMs: 15_000, what: "the dead letter in dlq ls" },
    );
    const human = await runnerly("dlq", "ls", "tally");
    expect(human.out).toContain("fixture-tally-items");

    const refused = await runnerly("dlq", "replay", "tally", "fixture-tally-items", String(listed.id));
    expect(refused.code).toBe(1);
    expect(refused.err).toContain("the handler failed again (unlucky number)");

    fixtureControl.rejectUnlucky = false;
    const replayed = await runnerly("dlq", "replay", "tally", "fixture-tally-items", String(listed.id));
    expect(replayed.code).toBe(0);
    expect(replayed.out).toContain(`replayed ${listed.id}`);
    const again = await runnerly("dlq", "replay", "tally", "fixture-tally-items", String(listed.id));
    expect(again.out).toContain("already been applied");
  });

  test("ls lists kit and foreign ADR-32 services; info and stats show endpoints", async () => {
    const foreign = await new Svcm(nc).add({
      name: "foreign",
      version: "9.9.9",
      description: "a Go team's service",
    });
    foreign.addEndpoint("ping", { subject: "foreign.ping", handler: (_e, m) => m.respond("pong") });
    try {
      const ls = await runnerly("ls");
      expect(ls.code).toBe(0);
      for (const name of ["fixture", "tally", "foreign"]) expect(ls.out).toContain(name);
      expect(ls.out).toContain("9.9.9");
      const info = await runnerly("info", "fixture");
      expect(info.out).toContain("svc.fixture.http");
      expect(info.out).toContain("http.prefix = /api/fixture");
      expect((await runnerly("info", "nobody")).code).toBe(1);
      const st = await runnerly("stats", "--json");
      expect((JSON.parse(st.out) as { name: string }[]).map((s) => s.name)).toContain("fixture");
    } finally {
      await foreign.stop();
    }
  });

  test("call runs an RPC method; events tail prints a stream's events", async () => {
    const call = await runnerly("call", "fixture.add", '{"a":2,"b":40}');
    expect(call.code).toBe(0);
    expect(JSON.parse(call.out)).toEqual({ sum: 42 });
    const bad = await runnerly("call", "fixture.add", '{"a":"x"}');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("input.a");
    const tail = await runnerly("events", "tail", "EVENTS_FIXTURE", "--all", "--count", "1");
    expect(tail.code).toBe(0);
    const line = JSON.parse(tail.out.trim().split("\n")[0]!) as { subject: string; event: { type: string } };
    expect(line.subject).toBe("events.fixture.item.added");
    expect(line.event.type).toBe("item.added");
  });

  test("rebuild and outbox", async () => {
    const rebuilt = await runnerly("rebuild", "tally", "fixture-tally-items");
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.out).toMatch(/rebuilt fixture-tally-items: \d+ events applied/);
    const outbox = await runnerly("outbox", "fixture", "--json");
    expect(JSON.parse(outbox.out)).toHaveProperty("count");
    const missing = await runnerly("outbox", "nobody");
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("is the service running?");
  });

  test("tasks ls shows the owner's dead task and the requester's failed one; tasks retry sends it again", async () => {
    const failing = await ask(3, "always-fails");
    const fine = await ask(4, "square");
    type Listed = { sent: { rows: { id: string; status: string; attempt: number }[] } };
    await waitFor(
      async () => {
        const r = await runnerly("tasks", "ls", "asker", "--json");
        const rows = (JSON.parse(r.out) as Listed).sent.rows;
        const ended = (id: string) => rows.find((x) => x.id === id && x.status !== "pending");
        return ended(failing) && ended(fine);
      },
      { timeoutMs: 15_000, what: "both tasks ended at asker" },
    );

    const owner = await runnerly("tasks", "ls", "tasker");
    expect(owner.code).toBe(0);
    expect(owner.out).toMatch(/^tasker: 0 pending, 0 in progress, 0 failed, \d+ dead/);
    expect(owner.out).toContain("queue TASKS_TASKER");
    expect(owner.out).toMatch(/tasker\/always-fails\s+0\s+—/);
    const dead = await runnerly("tasks", "ls", "tasker", "--status", "dead");
    expect(dead.out).toContain(failing);
    expect(dead.out).toMatch(new RegExp(`${failing}\\s+1\\s+tasker/always-fails\\s+asker\\s+dead\\s+2×`));
    expect(dead.out).not.toContain(fine);

    const requester = await runnerly("tasks", "ls", "asker", "--status", "failed");
    expect(requester.out).toMatch(/^asker: 0 pending, 0 in progress, [1-9]\d* failed, 0 dead/);
    expect(requester.out).toContain(failing);
    expect(requester.out).toContain("this task always fails");
    expect(requester.out).toContain(`runnerly tasks retry asker ${failing}`);

    const retried = await runnerly("tasks", "retry", "asker", failing);
    expect(retried.code).toBe(0);
    expect(retried.out).toContain(`${failing}: submitted again as attempt 2 of tasker/always-fails`);
    await waitFor(
      async () => {
        const r = await runnerly("tasks", "ls", "asker", "--status", "failed", "--json");
        return (JSON.parse(r.out) as Listed).sent.rows.find((x) => x.id === failing && x.attempt === 2);
      },
      { timeoutMs: 15_000, what: "attempt 2 failed again" },
    );
  });

  test("tasks: clear errors for a done task, an unknown one, a bad --status and a service that is not there", async () => {
    const done = await ask(5, "square");
    await waitFor(
      async () => {
        const r = await runnerly("tasks", "ls", "asker", "--status", "done", "--json");
        return (JSON.parse(r.out) as { sent: { rows: { id: string }[] } }).sent.rows.some(
          (x) => x.id === done,
        );
      },
      { what: "the done task" },
    );
    const again = await runnerly("tasks", "retry", "asker", done);
    expect(again.code).toBe(1);
    expect(again.err).toContain(
      `task ${done} is done; only a failed task or one past its deadline can be retried`,
    );
    const unknown = await runnerly("tasks", "retry", "asker", "no-such-id");
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain("asker submitted no task no-such-id");
    const bad = await runnerly("tasks", "ls", "asker", "--status", "lost");
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--status must be one of pending, done, failed, dead, deadline");
    const nobody = await runnerly("tasks", "ls", "nobody");
    expect(nobody.code).toBe(1);
    expect(nobody.err).toContain("is the service running?");
    const help = await runnerly("tasks", "ls", "--help");
    expect(help.out).toContain("--status <pending|done|failed|dead|deadline>");
    expect((await runnerly("--help")).out).toContain("tasks retry <service> <id>");
  });
});
