/** The generated NATS users: the permission table itself, its checks, and config that nats-server accepts. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { askerService, taskerService } from "../tasks/testdata/services.ts";
import { fixtureService } from "../testing/fixture/service.ts";
import { natsServerBin } from "../testing/nats-server.ts";
import { describeService, meshProvision } from "./describe.ts";
import { natsUsers, renderAuthorization } from "./nats-auth.ts";
import type { ServiceAccess } from "./types.ts";

const runs: ServiceAccess = { name: "runs", events: true, consumes: [], calls: [] };
const stats: ServiceAccess = {
  name: "stats",
  events: true,
  consumes: [{ stream: "EVENTS_RUNS", durable: "stats-update-totals", rebuild: true }],
  calls: [],
};
const plans: ServiceAccess = {
  name: "plans",
  events: false,
  consumes: [],
  calls: ["svc.stats.rpc.weeklyTotals"],
};
const accounts: ServiceAccess = { name: "accounts", events: false, consumes: [], calls: [] };
const audit: ServiceAccess = {
  name: "audit",
  events: false,
  consumes: [{ stream: "EVENTS_RUNS", durable: "audit-log" }],
  calls: [],
};

const permissionsOf = (user: string, services = [runs, stats, plans, accounts, audit]) => {
  const found = natsUsers(services).find((u) => u.user === user);
  if (!found) throw new Error(`no user ${user}`);
  return found.permissions;
};

describe("natsUsers", () => {
  test("one user per service, then the edge, the operator and the provisioner", () => {
    expect(natsUsers([runs, accounts]).map((u) => `${u.user}:${u.role}`)).toEqual([
      "accounts:service",
      "runs:service",
      "edge:edge",
      "operator:operator",
      "provisioner:provisioner",
    ]);
  });

  test("a producer: its events, its stream's info (the provisioner makes it), its own subjects and inbox", () => {
    expect(permissionsOf("runs")).toEqual({
      publish: {
        allow: [
          "mesh.announce.runs",
          "events.runs.>",
          "_INBOX.edge.stream.runs.>",
          "$JS.API.INFO",
          "$JS.API.STREAM.INFO.EVENTS_RUNS",
        ],
      },
      subscribe: {
        allow: [
          "svc.runs.>",
          "$SRV.PING",
          "$SRV.PING.runs",
          "$SRV.PING.runs.>",
          "$SRV.INFO",
          "$SRV.INFO.runs",
          "$SRV.INFO.runs.>",
          "$SRV.STATS",
          "$SRV.STATS.runs",
          "$SRV.STATS.runs.>",
          "_INBOX.runs.>",
        ],
      },
      allow_responses: true,
    });
  });

  test("a consumer that rebuilds: pulls and acks its durable, reads its stream, creates nothing", () => {
    const p = permissionsOf("stats");
    expect(p.publish.allow.filter((s) => s.includes("EVENTS_RUNS"))).toEqual([
      "$JS.API.CONSUMER.INFO.EVENTS_RUNS.stats-update-totals",
      "$JS.API.CONSUMER.MSG.NEXT.EVENTS_RUNS.stats-update-totals",
      "$JS.ACK.EVENTS_RUNS.stats-update-totals.>",
      "$JS.API.STREAM.MSG.GET.EVENTS_RUNS",
    ]);
    expect(p.publish.deny).toBeUndefined();
    expect(
      p.publish.allow.filter((s) => s.includes("EVENTS_PLANS") || s.includes("EVENTS_ACCOUNTS")),
    ).toEqual([]);
  });

  test("a service that pulls gets a pull user: its durables and inbox only, and no allow_responses", () => {
    const users = natsUsers([runs, stats]);
    expect(users.map((u) => `${u.user}:${u.role}`)).toEqual([
      "runs:service",
      "stats:service",
      "stats.pull:pull",
      "edge:edge",
      "operator:operator",
      "provisioner:provisioner",
    ]);
    const pull = users.find((u) => u.user === "stats.pull");
    expect(pull?.of).toBe("stats");
    expect(pull?.permissions).toEqual({
      publish: {
        allow: [
          "$JS.API.INFO",
          "$JS.API.CONSUMER.INFO.EVENTS_RUNS.stats-update-totals",
          "$JS.API.CONSUMER.MSG.NEXT.EVENTS_RUNS.stats-update-totals",
          "$JS.ACK.EVENTS_RUNS.stats-update-totals.>",
          "$JS.API.STREAM.MSG.GET.EVENTS_RUNS",
        ],
      },
      subscribe: { allow: ["_INBOX.stats.pull.>"] },
    });
    // The service's own user keeps what it had: a client with one connection still pulls with it.
    expect(permissionsOf("stats").allow_responses).toBe(true);
    expect(permissionsOf("stats").publish.allow).toContain("$JS.ACK.EVENTS_RUNS.stats-update-totals.>");
  });

  test("a consumer that does not rebuild gets its durable only; self-provisioning adds creating it", () => {
    expect(permissionsOf("audit").publish.allow.filter((s) => s.startsWith("$JS"))).toEqual([
      "$JS.API.INFO",
      "$JS.API.CONSUMER.INFO.EVENTS_RUNS.audit-log",
      "$JS.API.CONSUMER.MSG.NEXT.EVENTS_RUNS.audit-log",
      "$JS.ACK.EVENTS_RUNS.audit-log.>",
    ]);
    const own = { ...audit, events: true, selfProvision: true };
    const p = natsUsers([own]).find((u) => u.user === "audit")?.permissions;
    expect(p?.publish.allow.filter((s) => s.startsWith("$JS"))).toEqual([
      "$JS.API.INFO",
      "$JS.API.STREAM.INFO.EVENTS_AUDIT",
      "$JS.API.STREAM.CREATE.EVENTS_AUDIT",
      "$JS.API.STREAM.UPDATE.EVENTS_AUDIT",
      "$JS.API.CONSUMER.INFO.EVENTS_RUNS.audit-log",
      "$JS.API.CONSUMER.CREATE.EVENTS_RUNS.audit-log",
      "$JS.API.CONSUMER.CREATE.EVENTS_RUNS.audit-log.>",
      "$JS.API.CONSUMER.DURABLE.CREATE.EVENTS_RUNS.audit-log",
      "$JS.API.CONSUMER.MSG.NEXT.EVENTS_RUNS.audit-log",
      "$JS.ACK.EVENTS_RUNS.audit-log.>",
    ]);
  });

  test("the provisioner makes exactly the streams and durables of the services that do not make their own", () => {
    const p = permissionsOf("provisioner", [runs, stats, plans, accounts, { ...audit, selfProvision: true }]);
    expect(p.publish.allow).toEqual([
      "$JS.API.INFO",
      "$JS.API.STREAM.INFO.EVENTS_RUNS",
      "$JS.API.STREAM.CREATE.EVENTS_RUNS",
      "$JS.API.STREAM.UPDATE.EVENTS_RUNS",
      "$JS.API.STREAM.INFO.EVENTS_STATS",
      "$JS.API.STREAM.CREATE.EVENTS_STATS",
      "$JS.API.STREAM.UPDATE.EVENTS_STATS",
      "$JS.API.CONSUMER.INFO.EVENTS_RUNS.stats-update-totals",
      "$JS.API.CONSUMER.CREATE.EVENTS_RUNS.stats-update-totals",
      "$JS.API.CONSUMER.CREATE.EVENTS_RUNS.stats-update-totals.>",
      "$JS.API.CONSUMER.DURABLE.CREATE.EVENTS_RUNS.stats-update-totals",
      "$JS.API.STREAM.INFO.KV_edge_canary",
      "$JS.API.STREAM.CREATE.KV_edge_canary",
      "$JS.API.STREAM.UPDATE.KV_edge_canary",
    ]);
    expect(p.subscribe.allow).toEqual(["_INBOX.provisioner.>"]);
    expect(p.allow_responses).toBeUndefined();
  });

  test("a service with a KV bucket: its keys and its stream's info, never the bucket itself; the provisioner makes it", () => {
    const counting = { ...accounts, kvBuckets: ["accounts_login_failures"] };
    const own = permissionsOf("accounts", [counting]);
    expect(own.publish.allow).toEqual([
      "mesh.announce.accounts",
      "_INBOX.edge.stream.accounts.>",
      "$JS.API.INFO",
      "$JS.API.STREAM.INFO.KV_accounts_login_failures",
      "$JS.API.DIRECT.GET.KV_accounts_login_failures.$KV.accounts_login_failures.>",
      "$KV.accounts_login_failures.>",
    ]);
    // Its writes' acknowledgements come back to its own inbox.
    expect(own.subscribe.allow).toContain("_INBOX.accounts.>");
    expect(permissionsOf("provisioner", [counting]).publish.allow).toEqual(
      expect.arrayContaining(
        ["INFO", "CREATE", "UPDATE"].map((v) => `$JS.API.STREAM.${v}.KV_accounts_login_failures`),
      ),
    );
    // One that provisions its own may create it too.
    expect(permissionsOf("accounts", [{ ...counting, selfProvision: true }]).publish.allow).toContain(
      "$JS.API.STREAM.CREATE.KV_accounts_login_failures",
    );
    expect(() => natsUsers([{ ...accounts, kvBuckets: ["a.b"] }])).toThrow(/KV bucket "a.b" must match/);
  });

  test("a caller may publish its declared calls; a service that asks nothing has no inbox", () => {
    expect(permissionsOf("plans").publish.allow).toEqual([
      "mesh.announce.plans",
      "svc.stats.rpc.weeklyTotals",
      "_INBOX.edge.stream.plans.>",
    ]);
    expect(permissionsOf("plans").subscribe.allow).toContain("_INBOX.plans.>");
    // A service may answer an edge's streamed request (server-sent events) only in streams addressed to it.
    expect(permissionsOf("accounts").publish.allow).toEqual([
      "mesh.announce.accounts",
      "_INBOX.edge.stream.accounts.>",
    ]);
    expect(permissionsOf("accounts").subscribe.allow.filter((s) => s.startsWith("_INBOX"))).toEqual([]);
    expect(natsUsers([{ ...accounts, sharedInbox: true }])[0]?.permissions.subscribe.allow).toContain(
      "_INBOX.>",
    );
  });

  test("the edge alone publishes svc.*.http; the operator calls admin and RPC endpoints", () => {
    expect(permissionsOf("edge")).toEqual({
      publish: {
        allow: [
          "svc.*.http",
          "svc.*.http.*",
          "$SRV.>",
          "svc.accounts.rpc.jwks",
          "$JS.API.INFO",
          "$JS.API.DIRECT.GET.KV_edge_canary.$KV.edge_canary.>",
          "$JS.API.STREAM.INFO.KV_edge_rate_limits",
          "$JS.API.STREAM.CREATE.KV_edge_rate_limits",
          "$JS.API.DIRECT.GET.KV_edge_rate_limits.$KV.edge_rate_limits.>",
          "$KV.edge_rate_limits.>",
          // The revoked sessions: watched (an ordered consumer on the bucket's keys), never written.
          "$JS.API.STREAM.INFO.KV_revoked_sessions",
          "$JS.API.CONSUMER.CREATE.KV_revoked_sessions.*.$KV.revoked_sessions.>",
          "$JS.API.CONSUMER.INFO.KV_revoked_sessions.*",
          "$JS.FC.KV_revoked_sessions.>",
          // The workers of one edge ask each other for their figures.
          "edge.*.figures",
        ],
      },
      subscribe: { allow: ["mesh.announce.*", "_INBOX.edge.>", "edge.*.figures"] },
      // ...and answer each other.
      allow_responses: true,
    });
    const custom = natsUsers([], { edge: { calls: ["svc.keys.rpc.jwks"], kvBuckets: [], watches: [] } })[0];
    expect(custom?.permissions.publish.allow).toEqual([
      "svc.*.http",
      "svc.*.http.*",
      "$SRV.>",
      "svc.keys.rpc.jwks",
      "$JS.API.DIRECT.GET.KV_edge_canary.$KV.edge_canary.>",
      "edge.*.figures",
    ]);
    const operator = permissionsOf("operator");
    expect(operator.publish.allow.slice(0, 3)).toEqual(["$SRV.>", "svc.*.admin.rpc.>", "svc.*.rpc.>"]);
    expect(operator.publish.allow.filter((s) => s.startsWith("events.") || s.endsWith(".http"))).toEqual([]);
    // It reads streams through ordered consumers, never through a service's durable.
    expect(operator.publish.allow).toContain("$JS.API.CONSUMER.CREATE.*.*");
    expect(operator.publish.deny).toEqual([
      "$JS.API.CONSUMER.CREATE.EVENTS_RUNS.audit-log",
      "$JS.API.CONSUMER.MSG.NEXT.EVENTS_RUNS.audit-log",
      "$JS.API.CONSUMER.CREATE.EVENTS_RUNS.stats-update-totals",
      "$JS.API.CONSUMER.MSG.NEXT.EVENTS_RUNS.stats-update-totals",
    ]);
    expect(operator.subscribe).toEqual({ allow: ["_INBOX.operator.>"] });
    for (const u of natsUsers([runs, stats, plans, accounts])) {
      if (u.user === "edge") continue;
      const pub = u.permissions.publish.allow;
      expect(pub.some((s) => s === "svc.*.http" || s.endsWith(".http") || s === ">" || s === "svc.>")).toBe(
        false,
      );
    }
  });

  describe("tasks", () => {
    // stats works two tasks; plans submits one of them, and stats submits the other to itself.
    const worker: ServiceAccess = {
      ...stats,
      works: ["report.monthly", "report.season"],
      submits: [{ service: "stats", name: "report.monthly" }],
    };
    const requester: ServiceAccess = { ...plans, submits: [{ service: "stats", name: "report.season" }] };
    const mesh = [runs, worker, requester, accounts];

    test("a worker pulls its own task queue and answers only the requesters that declare its tasks", () => {
      const p = permissionsOf("stats", mesh);
      expect(p.publish.allow.filter((s) => s.startsWith("results.") || s.startsWith("tasks."))).toEqual([
        "tasks.stats.report.monthly",
        "results.plans.stats.report.season",
        "results.stats.stats.report.monthly",
      ]);
      expect(p.publish.allow.filter((s) => s.includes("TASKS_") || s.includes("RESULTS_"))).toEqual([
        "$JS.API.STREAM.INFO.TASKS_STATS",
        "$JS.API.CONSUMER.INFO.TASKS_STATS.stats-tasks",
        "$JS.API.CONSUMER.MSG.NEXT.TASKS_STATS.stats-tasks",
        "$JS.ACK.TASKS_STATS.stats-tasks.>",
        "$JS.API.STREAM.INFO.RESULTS_STATS",
        "$JS.API.CONSUMER.INFO.RESULTS_STATS.stats-task-results",
        "$JS.API.CONSUMER.MSG.NEXT.RESULTS_STATS.stats-task-results",
        "$JS.ACK.RESULTS_STATS.stats-task-results.>",
        "$JS.API.STREAM.MSG.GET.TASKS_STATS",
      ]);
      // No wildcard over requesters or over its tasks.
      expect(p.publish.allow.some((s) => s.includes("*") || /^(tasks|results)\..*>$/.test(s))).toBe(false);
    });

    test("a requester publishes the tasks it declared and pulls its own result queue, with its inbox for the acks", () => {
      const p = permissionsOf("plans", mesh);
      expect(p.publish.allow).toEqual([
        "mesh.announce.plans",
        "svc.stats.rpc.weeklyTotals",
        "tasks.stats.report.season",
        "_INBOX.edge.stream.plans.>",
        "$JS.API.INFO",
        "$JS.API.STREAM.INFO.RESULTS_PLANS",
        "$JS.API.CONSUMER.INFO.RESULTS_PLANS.plans-task-results",
        "$JS.API.CONSUMER.MSG.NEXT.RESULTS_PLANS.plans-task-results",
        "$JS.ACK.RESULTS_PLANS.plans-task-results.>",
      ]);
      expect(p.subscribe.allow).toContain("_INBOX.plans.>");
      // A service without tasks gets none of this.
      expect(
        permissionsOf("runs", mesh).publish.allow.filter((s) =>
          /TASKS_|RESULTS_|^tasks\.|^results\./.test(s),
        ),
      ).toEqual([]);
    });

    test("a self-provisioning worker may create its own queues; the provisioner makes everyone else's", () => {
      const own = natsUsers([{ ...worker, selfProvision: true }, requester]);
      const mine = own.find((u) => u.user === "stats")?.permissions.publish.allow ?? [];
      expect(mine).toEqual(
        expect.arrayContaining([
          "$JS.API.STREAM.CREATE.TASKS_STATS",
          "$JS.API.STREAM.UPDATE.TASKS_STATS",
          "$JS.API.CONSUMER.CREATE.TASKS_STATS.stats-tasks",
        ]),
      );
      const provisioner = own.find((u) => u.user === "provisioner")?.permissions.publish.allow ?? [];
      expect(provisioner.filter((s) => s.includes("TASKS_") || s.includes("RESULTS_"))).toEqual([
        "$JS.API.STREAM.INFO.RESULTS_PLANS",
        "$JS.API.STREAM.CREATE.RESULTS_PLANS",
        "$JS.API.STREAM.UPDATE.RESULTS_PLANS",
        "$JS.API.CONSUMER.INFO.RESULTS_PLANS.plans-task-results",
        "$JS.API.CONSUMER.CREATE.RESULTS_PLANS.plans-task-results",
        "$JS.API.CONSUMER.CREATE.RESULTS_PLANS.plans-task-results.>",
        "$JS.API.CONSUMER.DURABLE.CREATE.RESULTS_PLANS.plans-task-results",
      ]);
    });

    test("the operator may neither pull nor replace a task or result durable", () => {
      expect(permissionsOf("operator", mesh).publish.deny).toEqual(
        expect.arrayContaining([
          "$JS.API.CONSUMER.CREATE.TASKS_STATS.stats-tasks",
          "$JS.API.CONSUMER.MSG.NEXT.TASKS_STATS.stats-tasks",
          "$JS.API.CONSUMER.CREATE.RESULTS_PLANS.plans-task-results",
          "$JS.API.CONSUMER.MSG.NEXT.RESULTS_PLANS.plans-task-results",
        ]),
      );
    });

    test.each([
      [{ ...worker, works: ["report.>"] }, /works task "report.>"/],
      [{ ...requester, submits: [{ service: "stats", name: "*" }] }, /submits task "stats\/\*"/],
      [{ ...requester, submits: [{ service: "a.b", name: "x" }] }, /submits task "a.b\/x"/],
    ])("refuses a task name that is not a literal subject: %o", (bad, message) => {
      expect(() => natsUsers([bad])).toThrow(message);
    });
  });

  test.each([
    [{ ...runs, name: "edge" }, /reserved/],
    [{ ...runs, name: "a.b" }, /must match/],
    [{ ...plans, calls: ["svc.runs.http"] }, /RPC subject/],
    [{ ...plans, calls: ["svc.*.rpc.x"] }, /RPC subject/],
    [
      { ...audit, name: "other", consumes: [{ stream: "EVENTS_RUNS", durable: "stats-update-totals" }] },
      /both claim/,
    ],
    [{ ...audit, consumes: [{ stream: "EVENTS_RUNS", durable: "a.>" }] }, /must match/],
  ])("refuses %o", (bad, message) => {
    expect(() => natsUsers([stats, bad])).toThrow(message);
  });
});

describe("describeService", () => {
  test("reads name, events, consumers (durable, stream, rebuild) and calls from a definition", () => {
    expect(describeService(fixtureService())).toEqual({
      name: "fixture",
      events: true,
      consumes: [],
      calls: [],
    });
    expect(
      describeService({ ...fixtureService("tally", "1.0.0", { consume: true }), calls: ["svc.x.rpc.y"] }),
    ).toEqual({
      name: "tally",
      events: false,
      consumes: [{ stream: "EVENTS_FIXTURE", durable: "fixture-tally-items", rebuild: true }],
      calls: ["svc.x.rpc.y"],
    });
  });

  test("reads the tasks a service works and the tasks it submits, each name once", () => {
    expect(describeService(taskerService())).toEqual({
      name: "tasker",
      events: false,
      consumes: [],
      calls: [],
      works: ["square", "always-fails", "hold"],
    });
    expect(describeService(askerService()).submits).toEqual([
      { service: "tasker", name: "square" },
      { service: "tasker", name: "always-fails" },
      { service: "tasker", name: "hold" },
    ]);
  });

  test("the provisioner's plan has the worker's task queue and the requester's result queue", () => {
    const plan = meshProvision([taskerService(), askerService()], { TASKS_ACK_WAIT_MS: "5000" });
    expect(plan.queues?.map((q) => `${q.stream.name}/${q.durable.durable_name}`)).toEqual([
      "TASKS_TASKER/tasker-tasks",
      "RESULTS_ASKER/asker-task-results",
    ]);
    // With the ack wait the services read from the same key, they find them current.
    expect(plan.queues?.[0]?.durable.ack_wait).toBe(5_000_000_000);
  });

  test("a consumers factory that needs the running service says so", () => {
    const def = { ...fixtureService(), consumers: (ctx: { name: string }) => (ctx.name ? [] : []) };
    expect(() => describeService(def as never)).toThrow(/reads ctx.name/);
  });
});

describe("renderAuthorization", () => {
  test("nats-server accepts the generated block, with $ in hashes and subjects kept literal", () => {
    const users = natsUsers([runs, stats, plans, accounts, audit]);
    const hashes = new Map(
      users.map((u) => [u.user, "$2b$10$abcdefghijklmnopqrstuuJ6Y1UDh1bHqNnmJ5y4JmCfQO1ad2Pu"]),
    );
    const text = renderAuthorization(users, hashes);
    expect(text).not.toContain("no_auth_user");
    const dir = mkdtempSync(join(tmpdir(), "runnerly-auth-"));
    try {
      writeFileSync(join(dir, "nats.conf"), `listen: "127.0.0.1:-1"\n${text}`);
      const check = Bun.spawnSync([natsServerBin(), "-t", "-c", join(dir, "nats.conf")], { stderr: "pipe" });
      expect(check.stderr.toString()).toContain("configuration file");
      expect(check.exitCode).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(() => renderAuthorization(users, new Map())).toThrow(/no password/);
    const open = [
      {
        user: "x",
        role: "operator" as const,
        permissions: { publish: { allow: [] }, subscribe: { allow: ["a"] } },
      },
    ];
    expect(() => renderAuthorization(open, new Map([["x", "p"]]))).toThrow(/empty allow list/);
  });
});
