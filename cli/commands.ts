/** The `runnerly` commands: each a name, its arguments, a summary and a run function. */

import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import {
  adminRpc,
  connectNatsWithin,
  createRpcClient,
  loadConfig,
  MeshError,
  natsOptionsFrom,
  serviceConfigSchema,
  silentLogger,
} from "@runnerly/kit";
import { DEFAULT_UPDATE_COMMAND, runContractsCommand } from "@runnerly/kit/contract";
import { OPERATOR_USER, PROVISIONER_USER, readCredentials } from "@runnerly/kit/security";
import { edgeProgram, runDevStack } from "../scripts/dev/dev-stack.ts";
import { describeServices } from "../scripts/dev/nats-access.ts";
import { findProjectRoot } from "../scripts/dev/project.ts";
import { provisionServices } from "../scripts/dev/provision.ts";
import { findServices } from "../scripts/dev/services.ts";
import { BuildError, buildService } from "./build.ts";
import { getCanary, setCanary } from "./canary.ts";
import { addCredentials, devNatsDir } from "./creds.ts";
import { tailEvents } from "./events.ts";
import { callRpc, infos, renderInfo, renderList, renderStats, stats } from "./micro.ts";
import { type Flags, type OptionTable, UsageError } from "./options.ts";
import { nextSteps, scaffoldService, shownPath } from "./scaffold.ts";
import { listTasks, renderTasks, retryTask, TASK_STATUSES } from "./tasks.ts";

export type CommandOptions = { json: boolean; flags: Flags };
export type Command = {
  args: string[];
  summary: string;
  /** The command's own options (`--help` is added to every command); any other is refused. */
  options?: OptionTable;
  run(args: string[], options: CommandOptions): Promise<number>;
};

const JSON_OPTION: OptionTable = { json: { type: "boolean", description: "print JSON instead of text" } };
const DIR = (what: string): OptionTable => ({ dir: { type: "string", value: "dir", description: what } });

/**
 * The environment to connect with: the caller's, or, when it names no NATS
 * server and no credentials, the operator's creds file of the dev stack
 * (`npm run dev` refuses anonymous clients).
 */
function connectionEnv(user: string, env: Record<string, string | undefined> = process.env) {
  const own = ["NATS_URL", "NATS_USER", "NATS_TOKEN", "NATS_CREDS"].some((k) => env[k]);
  return own ? env : { ...readCredentials(join(devNatsDir(env), "creds", `${user}.env`)), ...env };
}

/**
 * `runnerly build [name…]`: the named services (default: all of them and the
 * edge, as `runnerly dev` finds it) bundled, one line each.
 */
async function runBuild(names: string[], flags: Flags): Promise<number> {
  const root = findProjectRoot();
  const dir = resolve(
    typeof flags.dir === "string" ? flags.dir : (process.env.RUNNERLY_SERVICES_DIR ?? join(root, "services")),
  );
  const out = resolve(typeof flags.out === "string" ? flags.out : join(root, "dist"));
  const found: { name: string; main: string }[] = findServices(dir);
  if (found.some((s) => s.name === "edge")) {
    throw new UsageError(`a service may not be named edge: dist/edge is the edge's bundle (${dir}/edge)`);
  }
  const edge = edgeProgram(root);
  if (edge) found.push({ name: "edge", main: edge });
  const unknown = names.filter((n) => !found.some((s) => s.name === n));
  if (unknown.length > 0) {
    throw new UsageError(
      `no service ${unknown.join(", ")} in ${dir} (there: ${found.map((s) => s.name).join(", ") || "none"})`,
    );
  }
  const chosen = names.length > 0 ? found.filter((s) => names.includes(s.name)) : found;
  if (chosen.length === 0) throw new UsageError(`no services (a <name>/main.ts) in ${dir}, and no edge`);
  const what = chosen.map((s) => s.name).join(", ");
  console.log(`bundling ${what} into ${out}`);
  const placed = new Map<string, string>();
  for (const service of chosen) {
    const started = performance.now();
    try {
      const built = await buildService(service, out, placed);
      const mb = (built.bytes / 1024 / 1024).toFixed(1);
      const beside = built.beside.length > 0 ? `; beside it: ${built.beside.join(", ")}` : "";
      const ms = (performance.now() - started).toFixed(0);
      console.log(`✔ ${service.name} → ${shownPath(built.main)} (${mb} MB with bytecode, ${ms} ms${beside})`);
    } catch (err) {
      if (!(err instanceof BuildError)) throw err;
      console.error(`✘ ${service.name}: ${err.message}`);
      return 1;
    }
  }
  console.log(`start one with: bun ${shownPath(join(out, chosen[0]?.name ?? "", "main.js"))}`);
  return 0;
}

/** Connects with the same environment a service reads, with a clear message when NATS is not there. */
async function withNats<T>(fn: (nc: NatsConnection) => Promise<T>, user = OPERATOR_USER): Promise<T> {
  const config = loadConfig(serviceConfigSchema, connectionEnv(user));
  let nc: NatsConnection;
  try {
    nc = await connectNatsWithin(natsOptionsFrom(config, "runnerly-cli", silentLogger), 5000);
  } catch (err) {
    throw new Error(
      `cannot reach NATS at ${config.NATS_URL} (${String(err)}); start it with npm run dev or set NATS_URL`,
    );
  }
  try {
    return await fn(nc);
  } finally {
    await nc.close();
  }
}

function explain(err: unknown): never {
  if (err instanceof MeshError && err.status === 503)
    throw new Error(`${err.detail}: is the service running?`);
  if (err instanceof MeshError) throw new Error(err.detail ?? err.title);
  throw err;
}

/**
 * The dev stack of the project around the current directory, in this
 * process. It never returns: once the stack is up it runs until a signal, and
 * the launcher exits the process when it has stopped everything.
 */
async function runDev(): Promise<number> {
  await runDevStack({ root: findProjectRoot() });
  return new Promise<number>(() => {});
}

/**
 * The one-process stack lives in the Runnerly repository only (scripts/single.ts
 * hosts the edge's sources); loaded from there so the installed CLI does not carry it.
 */
async function runSingle(args: string[]): Promise<number> {
  const launch = join(findProjectRoot(), "scripts", "single", "launch.ts");
  if (!existsSync(launch))
    throw new UsageError("runnerly start --single runs only in the Runnerly repository; use runnerly dev");
  const { runLauncher } = (await import(launch)) as {
    runLauncher(kind: "single", args: string[]): Promise<number>;
  };
  return runLauncher("single", args);
}

/**
 * `runnerly contracts check|update` on the project around the current
 * directory: its services/ against the snapshots in its contracts/.
 */
function runContracts(args: string[]): Promise<number> {
  const root = findProjectRoot();
  return runContractsCommand(args, {
    servicesDir: join(root, "services"),
    contractsDir: join(root, "contracts"),
    updateCommand: DEFAULT_UPDATE_COMMAND,
  });
}

const print = (value: unknown, options: CommandOptions, human: () => void) =>
  options.json ? console.log(JSON.stringify(value, null, 2)) : human();

export const commands: Record<string, Command> = {
  ls: {
    args: [],
    summary: "list the services answering $SRV.INFO (kit services and foreign ones)",
    options: JSON_OPTION,
    run: (_args, options) =>
      withNats(async (nc) => {
        const all = await infos(nc);
        print(all, options, () => console.log(renderList(all)));
        return 0;
      }),
  },
  info: {
    args: ["service"],
    summary: "a service's instances, versions, metadata and endpoints",
    options: JSON_OPTION,
    run: ([service], options) =>
      withNats(async (nc) => {
        const [list, st] = await Promise.all([infos(nc, service), stats(nc, service)]);
        print(list, options, () => console.log(renderInfo(service!, list, st)));
        return list.length > 0 ? 0 : 1;
      }),
  },
  stats: {
    args: [],
    summary: "requests, errors and average time per service endpoint ($SRV.STATS)",
    options: JSON_OPTION,
    run: (_args, options) =>
      withNats(async (nc) => {
        const st = await stats(nc);
        print(st, options, () => console.log(renderStats(st)));
        return 0;
      }),
  },
  call: {
    args: ["service.method", "json"],
    summary: "call an RPC method with a JSON input and print the JSON reply",
    run: ([target, json]) =>
      withNats(async (nc) => {
        const result = await callRpc(nc, target!, json!).catch(explain);
        console.log(JSON.stringify(result, null, 2));
        return 0;
      }),
  },
  "events tail": {
    args: ["stream"],
    summary: "print a stream's events as they arrive (--all from the start, --count N to stop)",
    options: {
      ...JSON_OPTION,
      all: { type: "boolean", description: "from the start of the stream, not only new events" },
      count: { type: "string", value: "N", description: "stop after N events" },
    },
    run: ([stream], options) =>
      withNats(async (nc) => {
        const count = typeof options.flags.count === "string" ? Number(options.flags.count) : undefined;
        if (count !== undefined && !(Number.isInteger(count) && count > 0))
          throw new Error("--count must be a positive whole number");
        const stop = new AbortController();
        process.once("SIGINT", () => stop.abort());
        if (!options.json)
          process.stderr.write(
            `tailing ${stream}${options.flags.all ? " from the start" : ""} (Ctrl-C to stop)…\n`,
          );
        await tailEvents(
          nc,
          stream!,
          { all: options.flags.all === true, count, signal: stop.signal },
          (line) => console.log(line),
        );
        return 0;
      }),
  },
  provision: {
    args: [],
    summary: "create or update the streams and durables the services need, as the provisioner (--dir)",
    options: DIR("the services' folder (default RUNNERLY_SERVICES_DIR, else the project's services/)"),
    run: async (_args, options) => {
      const dir = resolve(
        typeof options.flags.dir === "string"
          ? options.flags.dir
          : (process.env.RUNNERLY_SERVICES_DIR ?? join(findProjectRoot(), "services")),
      );
      const described = await describeServices(findServices(dir));
      for (const d of described) if (d.warning) console.error(`warning: ${d.warning}`);
      console.log(`provisioning the streams and durables of ${described.length} services in ${dir}`);
      const failed = await withNats(
        (nc) => provisionServices(nc, described, process.env, (line) => console.log(line)),
        PROVISIONER_USER,
      );
      for (const f of failed) console.error(`could not provision ${f}`);
      return failed.length === 0 ? 0 : 1;
    },
  },
  build: {
    args: [],
    summary:
      "bundle each service and the edge (or those named) with bytecode into <out>/<name>/main.js, to start fast where deployed",
    options: {
      ...DIR("the services' folder (default RUNNERLY_SERVICES_DIR, else the project's services/)"),
      out: {
        type: "string",
        value: "dir",
        description: "where the bundles go (default: the project's dist/)",
      },
    },
    run: async (names, options) => runBuild(names, options.flags),
  },
  dev: {
    args: [],
    summary: "run the project locally: nats-server, every services/<name> as its own process, the edge",
    run: () => runDev(),
  },
  start: {
    args: [],
    summary: "as dev (--single: every service and the edge in one Bun process, in the Runnerly repository)",
    options: { single: { type: "boolean", description: "every service and the edge in one Bun process" } },
    run: (args, options) => (options.flags.single === true ? runSingle(args) : runDev()),
  },
  canary: {
    args: ["service", "major", "percent"],
    summary:
      "send <percent> % of a service's unversioned requests to major version <major> (every edge, within 1 s)",
    options: JSON_OPTION,
    run: ([service, major, percent], options) =>
      withNats(async (nc) => {
        const setting = { major: Number(major), percent: Number(percent) };
        const before = await getCanary(nc, service!).catch(() => null);
        await setCanary(nc, service!, setting);
        print({ service, before, now: setting }, options, () =>
          console.log(
            `${service}: ${setting.percent} % of unversioned requests to v${setting.major}, the rest to the newest other major` +
              (before ? ` (was ${before.percent} % to v${before.major})` : ""),
          ),
        );
        return 0;
      }),
  },
  rollback: {
    args: ["service"],
    summary: "send all of a service's unversioned requests back to its stable version (canary weight 0)",
    options: JSON_OPTION,
    run: ([service], options) =>
      withNats(async (nc) => {
        const before = await getCanary(nc, service!).catch(() => null);
        if (!before) {
          console.error(`${service} has no canary setting; nothing to roll back`);
          return 1;
        }
        await setCanary(nc, service!, { major: before.major, percent: 0 });
        print({ service, before, now: { major: before.major, percent: 0 } }, options, () =>
          console.log(
            `${service}: rolled back; v${before.major} gets no unversioned requests (was ${before.percent} %)`,
          ),
        );
        return 0;
      }),
  },
  "new service": {
    args: ["name"],
    summary:
      "scaffold services/<name>: a route, a migration, its contract snapshot and a passing test (--dir elsewhere)",
    options: DIR("where to create the service's folder (default: the project's services/)"),
    async run([name], options) {
      const dir =
        typeof options.flags.dir === "string" ? options.flags.dir : join(findProjectRoot(), "services");
      console.log(`creating service ${name} in ${shownPath(join(dir, name!))}`);
      const made = await scaffoldService(name!, dir, (line) => console.log(line));
      console.log(["done.", ...nextSteps(name!, made)].join("\n"));
      return 0;
    },
  },
  "contracts check": {
    args: [],
    summary:
      "check every service's contract against contracts/<name>.json (exit 1: a breaking change or no snapshot)",
    run: () => runContracts(["check"]),
  },
  "contracts update": {
    args: [],
    summary:
      "record every service's contract in contracts/ (breaking: only with a new major version or --accept-breaking)",
    options: {
      "accept-breaking": {
        type: "boolean",
        description:
          "record breaking changes (and delete snapshots of removed services) without a new major version",
      },
    },
    run: (_args, options) =>
      runContracts(options.flags["accept-breaking"] === true ? ["update", "--accept-breaking"] : ["update"]),
  },
  "creds add": {
    args: ["name"],
    summary:
      "a NATS user for a new or foreign service (--calls svc.x.rpc.y,… --consumes EVENTS_X:durable,… --events --works name,… --submits owner/name,…)",
    options: {
      ...JSON_OPTION,
      calls: { type: "string", value: "svc.x.rpc.y,…", description: "RPC subjects it may call" },
      consumes: { type: "string", value: "EVENTS_X:durable,…", description: "durables it may consume" },
      events: { type: "boolean", description: "it publishes events on events.<name>.> into its own stream" },
      works: {
        type: "string",
        value: "name,…",
        description: "tasks it works from its own queue TASKS_<NAME>",
      },
      submits: {
        type: "string",
        value: "owner/name,…",
        description: "tasks it submits (results on RESULTS_<NAME>)",
      },
      "shared-inbox": {
        type: "boolean",
        description: "it may read every reply (_INBOX.>), for clients that cannot set an inbox prefix",
      },
    },
    async run([name], options) {
      const flag = (k: string) =>
        typeof options.flags[k] === "string" ? (options.flags[k] as string) : undefined;
      const added = await addCredentials(devNatsDir(), name!, {
        calls: flag("calls"),
        consumes: flag("consumes"),
        events: options.flags.events === true,
        works: flag("works"),
        submits: flag("submits"),
        sharedInbox: options.flags["shared-inbox"] === true,
      });
      print(added, options, () => {
        for (const line of added.lines) console.log(line);
      });
      return 0;
    },
  },
  "dlq ls": {
    args: ["service"],
    summary: "list a service's dead-lettered events",
    options: JSON_OPTION,
    run: ([service], options) =>
      withNats(async (nc) => {
        const rows = await createRpcClient(nc, adminRpc(service!)).deadLetters({}).catch(explain);
        print(rows, options, () => {
          if (rows.length === 0) console.log(`${service}: no dead letters`);
          for (const r of rows) {
            const when = new Date(r.failedAt).toISOString();
            console.log(
              `${String(r.id).padStart(5)}  ${r.consumer}  ${r.subject}  ${when}  ${r.deliveries}×  ${r.replayedAt ? "replayed" : r.error}`,
            );
          }
        });
        return 0;
      }),
  },
  "dlq replay": {
    args: ["service", "consumer", "id"],
    summary: "apply a dead-lettered event again (once)",
    options: JSON_OPTION,
    run: ([service, consumer, id], options) =>
      withNats(async (nc) => {
        const result = await createRpcClient(nc, adminRpc(service!), { timeoutMs: 30_000 })
          .replay({ consumer: consumer!, id: Number(id) })
          .catch(explain);
        print(result, options, () =>
          console.log(result.applied ? `replayed ${id}` : `${id} had already been applied`),
        );
        return 0;
      }),
  },
  rebuild: {
    args: ["service", "consumer"],
    summary: "rebuild a consumer's projection from the start of its stream",
    options: JSON_OPTION,
    run: ([service, consumer], options) =>
      withNats(async (nc) => {
        const started = Date.now();
        const ticker = options.json
          ? null
          : setInterval(
              () =>
                process.stderr.write(
                  `\rrebuilding ${consumer}… ${Math.round((Date.now() - started) / 1000)} s`,
                ),
              500,
            );
        try {
          const result = await createRpcClient(nc, adminRpc(service!), { timeoutMs: 600_000 })
            .rebuild({ consumer: consumer! })
            .catch(explain);
          if (ticker) process.stderr.write("\r");
          print(result, options, () =>
            console.log(
              `rebuilt ${consumer}: ${result.applied} events applied in ${Date.now() - started} ms`,
            ),
          );
          return 0;
        } finally {
          if (ticker) clearInterval(ticker);
        }
      }),
  },
  "tasks ls": {
    args: ["service"],
    summary:
      "a service's tasks: its queue (pending, in progress, oldest), what it worked (failed, dead) and submitted",
    options: {
      ...JSON_OPTION,
      status: {
        type: "string",
        value: TASK_STATUSES.join("|"),
        description: "list only tasks with this status (dead: failed on its last delivery)",
      },
      limit: { type: "string", value: "N", description: "list at most N rows of each kind (default 50)" },
    },
    run: ([service], options) => {
      const status = typeof options.flags.status === "string" ? options.flags.status : undefined;
      if (status !== undefined && !TASK_STATUSES.includes(status))
        throw new UsageError(
          `runnerly tasks ls: --status must be one of ${TASK_STATUSES.join(", ")} (got "${status}")`,
        );
      const limit = typeof options.flags.limit === "string" ? Number(options.flags.limit) : undefined;
      if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 1000))
        throw new UsageError("runnerly tasks ls: --limit must be a whole number from 1 to 1000");
      return withNats(async (nc) => {
        const list = await listTasks(nc, service!, { status, limit }).catch(explain);
        print(list, options, () => console.log(renderTasks(service!, list, status)));
        return 0;
      });
    },
  },
  "tasks retry": {
    args: ["service", "id"],
    summary: "submit a task the service submitted again as its next attempt (only a failed or expired one)",
    options: JSON_OPTION,
    run: ([service, id], options) =>
      withNats(async (nc) => {
        const status = await retryTask(nc, service!, id!).catch(explain);
        print(status, options, () =>
          console.log(
            `${id}: submitted again as attempt ${status.attempt} of ${status.task}; ` +
              `follow it with runnerly tasks ls ${service} --status pending`,
          ),
        );
        return 0;
      }),
  },
  outbox: {
    args: ["service"],
    summary: "show a service's unsent events and the age of the oldest",
    options: JSON_OPTION,
    run: ([service], options) =>
      withNats(async (nc) => {
        const b = await createRpcClient(nc, adminRpc(service!)).outbox({}).catch(explain);
        print(b, options, () => console.log(`${service}: ${b.count} unsent, oldest ${b.oldestAgeMs} ms`));
        return 0;
      }),
  },
};
