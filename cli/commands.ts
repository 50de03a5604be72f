/** The `runnerly` commands: each a name, its arguments, a summary and a run function. */
import type { NatsConnection } from "@nats-io/nats-core";
import {
  adminRpc,
  connectNats,
  createRpcClient,
  loadConfig,
  MeshError,
  serviceConfigSchema,
  silentLogger,
} from "@runnerly/kit";

export type CommandOptions = { json: boolean };
export type Command = {
  args: string[];
  summary: string;
  run(args: string[], options: CommandOptions): Promise<number>;
};

/** Connects with the same environment a service reads, with a clear message when NATS is not there. */
async function withNats<T>(fn: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const config = loadConfig(serviceConfigSchema);
  let nc: NatsConnection;
  try {
    nc = await Promise.race([
      connectNats({
        servers: config.NATS_URL,
        name: "runnerly-cli",
        user: config.NATS_USER,
        pass: config.NATS_PASS,
        token: config.NATS_TOKEN,
        credsFile: config.NATS_CREDS,
        logger: silentLogger,
      }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("timed out")), 5000)),
    ]);
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

const print = (value: unknown, options: CommandOptions, human: () => void) =>
  options.json ? console.log(JSON.stringify(value, null, 2)) : human();

export const commands: Record<string, Command> = {
  "dlq ls": {
    args: ["service"],
    summary: "list a service's dead-lettered events",
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
  outbox: {
    args: ["service"],
    summary: "show a service's unsent events and the age of the oldest",
    run: ([service], options) =>
      withNats(async (nc) => {
        const b = await createRpcClient(nc, adminRpc(service!)).outbox({}).catch(explain);
        print(b, options, () => console.log(`${service}: ${b.count} unsent, oldest ${b.oldestAgeMs} ms`));
        return 0;
      }),
  },
};
