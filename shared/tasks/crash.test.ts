/**
 * Crash test of tasks with real processes: three worker processes of one
 * service share its SQLite file (as the app's instances do) while one of them
 * is killed with SIGKILL twenty times — at random moments while tasks are in
 * its hands, and now and then between its commit and its ack (the fault point
 * `task.after-commit`) — and restarted each time. Every task's callback runs
 * exactly once and every task's effect happens exactly once. Then the
 * requester, a process too, dies between its callbacks' commit and their
 * acks (`task-result.after-commit`): no callback runs twice.
 */
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { Svcm } from "@nats-io/services";
import { connect } from "@nats-io/transport-node";
import type { Subprocess } from "bun";
import { silentLogger } from "../log/logger.ts";
import { type RunningService, startService } from "../service/index.ts";
import { meshFetch } from "../testing/mesh-fetch.ts";
import { NatsServer } from "../testing/nats-server.ts";
import { waitFor } from "../testing/wait.ts";
import * as schema from "./testdata/schema.ts";
import { askerService, square } from "./testdata/services.ts";

setDefaultTimeout(90_000);

const KILLS = 20;
const TASKS = 200;
/** Every fourth death is the worker's own, right after a commit and before its ack. */
const armedKill = (i: number) => i % 4 === 3;

let nats: NatsServer;
let nc: NatsConnection;
let asker: RunningService<typeof schema>;
const workerDir = mkdtempSync(join(tmpdir(), "tasks-crash-w-"));
const workers = new Set<Subprocess>();
const requesters = new Set<Subprocess>();

/** Starts a fixture service as its own process; `fault` names the fault point that kills it. */
function startFixture(fixture: "tasker" | "asker", dataDir: string, fault = ""): Subprocess {
  return Bun.spawn([process.execPath, join(import.meta.dir, "testdata", "main.ts")], {
    env: {
      ...process.env,
      TASK_FIXTURE: fixture,
      TASK_WORK_MS: "60",
      NATS_URL: nats.url,
      DATA_DIR: dataDir,
      LOG_LEVEL: "error",
      TASKS_ACK_WAIT_MS: "1000",
      MESH_FAULTS: fault,
    },
    stdout: "ignore",
    stderr: "inherit",
  });
}

/** Starts one tasker process on the service's shared data dir; `armed` makes it die after its first commit. */
function startWorker(armed = false): Subprocess {
  const proc = startFixture("tasker", workerDir, armed ? "task.after-commit" : "");
  workers.add(proc);
  void proc.exited.then(() => workers.delete(proc));
  return proc;
}

/** Instances of `service` answering `$SRV.PING`. */
async function instances(service = "tasker"): Promise<number> {
  let n = 0;
  try {
    for await (const _ of await new Svcm(nc).client().ping(service)) n++;
  } catch {
    return 0;
  }
  return n;
}

const threeWorkers = () =>
  waitFor(async () => (await instances()) === 3, { timeoutMs: 20_000, what: "three tasker instances" });

/** The workers' shared store, read as it is on disk. */
function workerDb(): Database {
  return new Database(join(workerDir, "tasker.db"), { readonly: true });
}

function countWorked(): number {
  const db = workerDb();
  try {
    return (db.query("SELECT count(*) AS n FROM worked").get() as { n: number }).n;
  } catch {
    return 0; // not migrated yet
  } finally {
    db.close();
  }
}

let submitted = 0;
const ids: string[] = [];
/** Submits `k` square tasks in one transaction of the requester. */
async function submit(k: number): Promise<void> {
  await asker.store.write(async (tx) => {
    for (let i = 0; i < k; i++) {
      const n = submitted++;
      const { id } = await asker.tasks.submit(tx, square, { n }, { callback: "squared" });
      ids.push(id);
    }
  });
}

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url });
  asker = (await startService(askerService(), {
    env: { NATS_URL: nats.url, DATA_DIR: mkdtempSync(join(tmpdir(), "tasks-crash-r-")), LOG_LEVEL: "silent" },
    logger: silentLogger,
  })) as never;
  for (let i = 0; i < 3; i++) startWorker();
  await threeWorkers();
});

afterAll(async () => {
  for (const p of [...workers, ...requesters]) p.kill("SIGKILL");
  await asker?.stop();
  await nc?.close();
  await nats?.stop();
});

/** A kill at a random moment: after a random number (0–6) of further tasks were worked. */
async function killAtRandom(): Promise<void> {
  const before = countWorked();
  const more = Math.floor(Math.random() * 7);
  await waitFor(() => countWorked() >= before + more || countWorked() >= submitted, {
    timeoutMs: 15_000,
    what: `${more} more tasks worked`,
  });
  const live = [...workers];
  const victim = live[Math.floor(Math.random() * live.length)] as Subprocess;
  victim.kill("SIGKILL");
  await victim.exited;
}

/** A worker that dies between its commit and its ack; tasks are fed until it has taken one. */
async function killAfterCommit(): Promise<void> {
  const live = [...workers];
  const replaced = live[Math.floor(Math.random() * live.length)] as Subprocess;
  replaced.kill("SIGKILL");
  await replaced.exited;
  const armed = startWorker(true);
  let exited = false;
  void armed.exited.then(() => (exited = true));
  // Tasks are pending (the killed worker's, this round's): the armed worker may take one, commit
  // and die within moments of its start, before a ping sees three instances. Either will do.
  await waitFor(async () => exited || (await instances()) === 3, {
    timeoutMs: 20_000,
    what: "three tasker instances, or the armed one dead already",
  });
  for (let fed = 0; !exited; fed++) {
    if (fed > 20) throw new Error("the armed worker took no task");
    await submit(2);
    await waitFor(() => exited || countWorked() >= submitted, {
      timeoutMs: 15_000,
      what: "the armed worker to die or the tasks to be worked",
    });
  }
  expect(armed.signalCode).toBe("SIGKILL");
}

test("workers killed with SIGKILL 20 times: every task's callback runs once and its effect happens once", async () => {
  for (let i = 0; i < KILLS; i++) {
    await submit(Math.max(0, Math.min(TASKS / KILLS, TASKS - submitted)));
    if (armedKill(i)) await killAfterCommit();
    else await killAtRandom();
    startWorker();
    await threeWorkers();
  }
  if (submitted < TASKS) await submit(TASKS - submitted);

  const callbacks = () => asker.store.db.select().from(schema.outcomes).all();
  await waitFor(async () => (await callbacks()).length === ids.length, {
    timeoutMs: 30_000,
    what: `${ids.length} callbacks`,
  });
  // Nothing left to deliver again: both work queues are empty and nothing is unacknowledged.
  const jsm = await jetstreamManager(nc);
  await waitFor(
    async () =>
      (await jsm.streams.info("TASKS_TASKER")).state.messages === 0 &&
      (await jsm.streams.info("RESULTS_ASKER")).state.messages === 0,
    { timeoutMs: 15_000, what: "empty task and result queues" },
  );

  const outcomes = await callbacks();
  expect(outcomes.map((o) => o.taskId).sort()).toEqual([...ids].sort());
  expect(outcomes.filter((o) => o.calls !== 1)).toEqual([]);
  expect(outcomes.filter((o) => o.status !== "done")).toEqual([]);
  const db = workerDb();
  const effects = db.query("SELECT task_id AS id, n, times FROM worked").all() as {
    id: string;
    n: number;
    times: number;
  }[];
  const inbox = db.query("SELECT count(*) AS n FROM _mesh_tasks_worked").get() as { n: number };
  db.close();
  expect(effects.map((e) => e.id).sort()).toEqual([...ids].sort());
  expect(effects.filter((e) => e.times !== 1)).toEqual([]);
  expect(inbox.n).toBe(ids.length);
  for (const o of outcomes) {
    const n = effects.find((e) => e.id === o.taskId)?.n as number;
    expect(JSON.parse(o.output as string)).toEqual({ sq: n * n });
  }
  // The kills hit tasks in the workers' hands: some were delivered more than once.
  const consumer = await jsm.consumers.info("TASKS_TASKER", "tasker-tasks");
  expect(consumer.delivered.consumer_seq).toBeGreaterThan(ids.length);
});

test("the requester killed between its callbacks' commit and their acks: each callback still runs once", async () => {
  // The results now go to a requester process: the in-process one leaves the durable to it.
  await asker.stop();
  const dir = mkdtempSync(join(tmpdir(), "tasks-crash-r2-"));
  const start = (fault = "") => {
    const proc = startFixture("asker", dir, fault);
    requesters.add(proc);
    void proc.exited.then(() => requesters.delete(proc));
    return proc;
  };
  // No worker while the tasks are submitted: no result can kill the requester before they all are.
  const stopping = [...workers];
  for (const w of stopping) w.kill("SIGTERM");
  await Promise.all(stopping.map((w) => w.exited));
  const doomed = start("task-result.after-commit");
  await waitFor(async () => (await instances("asker")) === 1, {
    timeoutMs: 20_000,
    what: "the asker process",
  });
  const asked: string[] = [];
  for (let n = 0; n < 40; n++) {
    const res = await meshFetch(nc, "asker", "/api/asker/asks", { method: "POST", json: { n } });
    expect(res.status).toBe(202);
    asked.push(((await res.json()) as { id: string }).id);
  }
  startWorker();
  // Its first group of callbacks commits, then it dies before acknowledging any of them.
  expect(await doomed.exited).not.toBe(0);
  expect(doomed.signalCode).toBe("SIGKILL");
  const readOutcomes = () => {
    const db = new Database(join(dir, "asker.db"), { readonly: true });
    try {
      return db.query("SELECT task_id AS id, calls, status FROM outcomes").all() as {
        id: string;
        calls: number;
        status: string;
      }[];
    } finally {
      db.close();
    }
  };
  const beforeRestart = readOutcomes().length;
  expect(beforeRestart).toBeGreaterThan(0);
  const requester = start();
  await waitFor(() => readOutcomes().length === asked.length, {
    timeoutMs: 30_000,
    what: `${asked.length} callbacks after the restart`,
  });
  const jsm = await jetstreamManager(nc);
  await waitFor(async () => (await jsm.streams.info("RESULTS_ASKER")).state.messages === 0, {
    timeoutMs: 15_000,
    what: "the results acknowledged",
  });
  const outcomes = readOutcomes();
  expect(outcomes.map((o) => o.id).sort()).toEqual([...asked].sort());
  expect(outcomes.filter((o) => o.calls !== 1 || o.status !== "done")).toEqual([]);
  requester.kill("SIGTERM");
  await requester.exited;
});
