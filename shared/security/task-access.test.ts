/**
 * Tasks under the generated least-privilege NATS users, against a real
 * nats-server with the kit's task fixture services (`tasker` works tasks,
 * `asker` submits them): the provisioner makes the task and result queues,
 * the two services start under their own users and a task's callback runs
 * with nothing refused; and no other service can work, take over or answer
 * for tasker's queue.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { provisionMesh } from "../events/provision.ts";
import { silentLogger } from "../log/logger.ts";
import { readTaskQueue } from "../metrics/task-figures.ts";
import { type RunningService, startService } from "../service/index.ts";
import { ask as askTask, outcomeOf } from "../tasks/testdata/ask.ts";
import type * as schema from "../tasks/testdata/schema.ts";
import { askerService, taskControl, taskerService } from "../tasks/testdata/services.ts";
import { NatsServer } from "../testing/nats-server.ts";
import { NatsUsers } from "../testing/nats-users.ts";
import { PermissionProbe } from "../testing/permissions.ts";
import { recordingLogger } from "../testing/recording-logger.ts";
import { waitFor } from "../testing/wait.ts";
import { generatePassword, hashPassword } from "./credentials.ts";
import { describeService, meshProvision } from "./describe.ts";
import { natsUsers, renderAuthorization } from "./nats-auth.ts";
import type { ServiceAccess } from "./types.ts";

setDefaultTimeout(45_000);

const tasker = taskerService({ maxDeliver: 2 });
const asker = askerService();
/** Another service with a task queue of its own: it may work that one, never tasker's. */
const rival: ServiceAccess = { name: "rival", events: false, consumes: [], calls: [], works: ["cube"] };

let nats: NatsServer;
let dataDir: string;
const clients = new NatsUsers(() => nats.url);
const running: RunningService<typeof schema>[] = [];
let workerOf: RunningService<typeof schema>;
let requesterOf: RunningService<typeof schema>;

const envOf = (user: string) => ({
  NATS_URL: nats.url,
  NATS_USER: user,
  NATS_PASS: clients.passwords.get(user),
  DATA_DIR: mkdtempSync(join(dataDir, `${user}-`)),
  LOG_LEVEL: "silent",
});

beforeAll(async () => {
  const users = natsUsers([describeService(tasker), describeService(asker), rival]);
  const hashes = new Map<string, string>();
  for (const { user } of users) {
    clients.passwords.set(user, generatePassword());
    hashes.set(user, await hashPassword(clients.passwords.get(user) as string));
  }
  nats = await NatsServer.start({ auth: renderAuthorization(users, hashes) });
  dataDir = mkdtempSync(join(tmpdir(), "runnerly-task-access-"));
});

afterAll(async () => {
  for (const s of running.reverse()) await s.stop();
  await clients.close();
  await nats?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("tasks under the generated NATS users", () => {
  test("before the provisioner has run, neither service may make its own queue, and each says what to run", async () => {
    await expect(startService(tasker, { env: envOf("tasker"), logger: silentLogger })).rejects.toThrow(
      /stream TASKS_TASKER does not exist and this service may not create it; provision it/,
    );
    await expect(startService(asker, { env: envOf("asker"), logger: silentLogger })).rejects.toThrow(
      /stream RESULTS_ASKER does not exist and this service may not create it; provision it/,
    );
  });

  test("provisioned, a requester and a worker under their own users submit, work and call back, and nothing is refused", async () => {
    const provisioner = await jetstreamManager(await clients.as("provisioner"));
    const plan = meshProvision([tasker, asker], {});
    const outcomes: string[] = [];
    const report = (what: string, outcome: string) => outcomes.push(`${what}: ${outcome}`);
    expect(await provisionMesh(provisioner, plan, report)).toEqual([]);
    expect(outcomes).toEqual([
      "stream TASKS_TASKER: created",
      "durable TASKS_TASKER/tasker-tasks: created",
      "stream RESULTS_ASKER: created",
      "durable RESULTS_ASKER/asker-task-results: created",
    ]);

    const logFrom = nats.log.length;
    const logs = recordingLogger();
    workerOf = (await startService(tasker, { env: envOf("tasker"), logger: logs })) as never;
    running.push(workerOf);
    requesterOf = (await startService(asker, { env: envOf("asker"), logger: logs })) as never;
    running.push(requesterOf);

    const ask = (body: Record<string, unknown>) => askTask(requesterOf.url, body);
    const outcome = (id: string) => outcomeOf(requesterOf.store.db, id);
    const squared = await ask({ n: 7 });
    const failing = await ask({ n: 1, task: "always-fails" });
    const done = await waitFor(() => outcome(squared), { what: "the square task's callback" });
    expect({ status: done.status, output: JSON.parse(done.output ?? "null"), calls: done.calls }).toEqual({
      status: "done",
      output: { sq: 49 },
      calls: 1,
    });
    // A failure result travels on its own subject, results.asker.tasker.always-fails.
    const failed = await waitFor(() => outcome(failing), { what: "the failing task's callback" });
    expect(failed.status).toBe("failed");
    // The queue's figures read the stream's and the durable's info, which the worker may.
    const workerJsm = await jetstreamManager(workerOf.nc);
    expect(await readTaskQueue(workerJsm, "tasker", tasker.tasks?.works ?? [])).toMatchObject({
      pending: 0,
      inProgress: 0,
    });
    // With a task in hand, $SRV.STATS's figures also read the oldest task's time (a message get).
    let letGo = () => {};
    taskControl.release = new Promise<void>((r) => {
      letGo = r;
    });
    const started = new Promise<void>((r) => {
      taskControl.onHold = () => r();
    });
    const held = await ask({ n: 3, task: "hold" });
    await started;
    const queue = await readTaskQueue(workerJsm, "tasker", tasker.tasks?.works ?? []);
    expect(queue.tasks.find((t) => t.task === "tasker/hold")).toMatchObject({ depth: 1 });
    expect(queue.tasks.find((t) => t.task === "tasker/hold")?.oldestAgeMs).toBeGreaterThanOrEqual(0);
    letGo();
    await waitFor(() => outcome(held), { what: "the held task's callback" });

    // The services found their queues current: no update tried and refused, no violation logged.
    // (The failing task's own retries and failure are logged with its name; nothing else may be.)
    const complaints = logs.entries.filter((e) => ["warn", "error"].includes(e.level) && !e.fields.task);
    expect(complaints).toEqual([]);
    expect(nats.log.slice(logFrom).filter((l) => /Violation/.test(l))).toEqual([]);
    // The provisioner, again, finds everything current.
    const again: string[] = [];
    await provisionMesh(provisioner, plan, (what, o) => again.push(`${what}: ${o}`));
    expect(again.every((l) => l.endsWith(": current"))).toBe(true);
  });

  test("no other service may work tasker's queue, take it over, or answer for it", async () => {
    const refusals: string[] = [];
    const denied = async (user: string, what: string, verdict: Promise<string>) => {
      if ((await verdict) !== "denied") refusals.push(`${user} was allowed to ${what}`);
    };
    const queue = "TASKS_TASKER.tasker-tasks";
    for (const user of ["asker", "rival", "operator", "edge"]) {
      const probe = new PermissionProbe(await clients.as(user));
      for (const verb of ["MSG.NEXT", "CREATE", "DURABLE.CREATE", "DELETE"]) {
        const subject = `$JS.API.CONSUMER.${verb}.${queue}`;
        await denied(user, subject, probe.request(subject));
      }
      await denied(
        user,
        "replace the durable's filter",
        probe.request(`$JS.API.CONSUMER.CREATE.${queue}.tasks.>`),
      );
      await denied(user, "ack a task", probe.publish(`$JS.ACK.${queue}.1.1.1.1.0`));
      await denied(user, "answer asker for tasker", probe.publish("results.asker.tasker.square"));
      await denied(user, "delete tasker's queue", probe.request("$JS.API.STREAM.DELETE.TASKS_TASKER"));
      await denied(user, "purge tasker's queue", probe.request("$JS.API.STREAM.PURGE.TASKS_TASKER"));
      if (user !== "operator") {
        const rogue = "$JS.API.CONSUMER.CREATE.TASKS_TASKER.rogue";
        await denied(user, "add a consumer of its own", probe.request(rogue));
        await denied(user, "read the queue's state", probe.request("$JS.API.STREAM.INFO.TASKS_TASKER"));
      }
    }
    // A requester submits only the tasks it declared; a worker answers only the requesters that declared its tasks.
    const asking = new PermissionProbe(await clients.as("asker"));
    await denied("asker", "submit an undeclared task", asking.publish("tasks.tasker.cube"));
    await denied("asker", "submit rival's task", asking.publish("tasks.rival.cube"));
    const working = new PermissionProbe(await clients.as("tasker"));
    await denied(
      "tasker",
      "answer rival, which submits nothing",
      working.publish("results.rival.tasker.square"),
    );
    await denied("tasker", "submit a task", working.publish("tasks.tasker.square"));
    await denied(
      "tasker",
      "pull asker's results",
      working.request("$JS.API.CONSUMER.MSG.NEXT.RESULTS_ASKER.asker-task-results"),
    );
    const rivalling = new PermissionProbe(await clients.as("rival"));
    await denied("rival", "submit tasker's task", rivalling.publish("tasks.tasker.square"));
    expect(refusals).toEqual([]);

    // The same with the JetStream client a rival service would use: it cannot even look the durable up.
    const js = jetstream(await clients.as("rival"));
    const error = await js.consumers.get("TASKS_TASKER", "tasker-tasks").then(
      () => "got the consumer",
      (err: unknown) => String(err),
    );
    expect(error).toMatch(/Permissions Violation/i);
    // The probes are not vacuous: each service may reach its own durable.
    expect(await working.request(`$JS.API.CONSUMER.INFO.${queue}`)).toBe("allowed");
    expect(await rivalling.request("$JS.API.CONSUMER.INFO.TASKS_RIVAL.rival-tasks")).toBe("allowed");
    expect(await asking.request("$JS.API.CONSUMER.INFO.RESULTS_ASKER.asker-task-results")).toBe("allowed");
    // And tasks still flow after all that.
    const id = await askTask(requesterOf.url, { n: 12 });
    await waitFor(async () => (await requesterOf.tasks.status(id))?.status === "done", {
      what: "a task submitted after the probes",
    });
  });
});
