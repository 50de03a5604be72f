/** The `runnerly` command as a process against a real mesh. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { Svcm } from "@nats-io/services";
import { connect } from "@nats-io/transport-node";
import { type RunningService, silentLogger, startService } from "@runnerly/kit";
import { meshFetch, NatsServer, runScript, waitFor } from "@runnerly/kit/testing";
import { fixtureControl, fixtureService } from "@runnerly/kit/testing/fixture";

setDefaultTimeout(30_000);

let nats: NatsServer;
let nc: NatsConnection;
const services: RunningService<Record<string, unknown>>[] = [];

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
});

afterAll(async () => {
  fixtureControl.rejectUnlucky = true;
  for (const s of services.reverse()) await s.stop();
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
});
