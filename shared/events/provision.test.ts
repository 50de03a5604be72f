/**
 * A service that starts while JetStream cannot answer (a cluster without a
 * meta leader) waits for it, bounded, instead of exiting: the flake of a
 * cluster start where one instance's stream request timed out.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startService } from "../service/index.ts";
import { fixtureService } from "../testing/fixture/service.ts";
import { NatsCluster } from "../testing/nats-cluster.ts";
import { recordingLogger } from "../testing/recording-logger.ts";
import { waitFor } from "../testing/wait.ts";
import { untilJetStreamAnswers } from "./provision.ts";

setDefaultTimeout(90_000);

let cluster: NatsCluster;
const dir = mkdtempSync(join(tmpdir(), "provision-"));

beforeAll(async () => {
  cluster = await NatsCluster.start({ nodes: 3 });
});

afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("other errors are not retried: a denied request fails at once", async () => {
  let calls = 0;
  const denied = untilJetStreamAnswers(
    async () => {
      calls++;
      throw new Error("Permissions Violation for Publish to $JS.API.STREAM.CREATE.EVENTS_X");
    },
    { what: "stream EVENTS_X" },
  );
  await expect(denied).rejects.toThrow(/Permissions Violation/);
  expect(calls).toBe(1);
});

test("a timeout past the bound fails with what to check", async () => {
  const timeout = Object.assign(new Error("timeout"), { name: "TimeoutError" });
  const late = untilJetStreamAnswers(
    async () => {
      throw timeout;
    },
    { what: "stream EVENTS_X", withinMs: 300 },
  );
  await expect(late).rejects.toThrow(/EVENTS_X: JetStream did not answer .*cluster has a leader/);
});

test("a service started while the cluster has no meta leader waits for it, then starts", async () => {
  await cluster.kill(1);
  await cluster.kill(2);
  const logs = recordingLogger();
  const starting = startService(fixtureService(), {
    env: { NATS_URL: cluster.url, DATA_DIR: dir, EVENTS_REPLICAS: "3" },
    logger: logs,
  });
  let failed: unknown = null;
  starting.catch((err) => {
    failed = err;
  });
  await waitFor(() => failed !== null || logs.entries.some((e) => /not answering yet/.test(e.msg ?? "")), {
    timeoutMs: 30_000,
    what: "the service to wait for JetStream",
  });
  expect(failed).toBeNull();
  await cluster.restart(1);
  await cluster.restart(2);
  const running = await starting;
  try {
    expect(logs.entries.some((e) => e.msg === "service ready")).toBe(true);
  } finally {
    await running.stop();
  }
});
