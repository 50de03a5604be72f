/** The accounts service: sign up, log in, rotating refresh tokens, the JWKS, and the profile. */
import type { KV } from "@nats-io/kv";
import {
  type BackgroundTask,
  defineService,
  type KvBucketDefinition,
  openKvBucket,
  perInstance,
  type ServiceContext,
} from "@runnerly/kit";
import { Accounts } from "./accounts.ts";
import { accountsRpc } from "./contract.ts";
import * as schema from "./db/schema.ts";
import { DenyList, revokedSessionsBucket } from "./deny-list.ts";
import { LOGIN_FAILURES_BUCKET, LoginAttempts } from "./login-attempts.ts";
import { prepareDecoy } from "./passwords.ts";
import { accountsRoutes, PUBLIC_ROUTES } from "./routes.ts";
import { accountsRpcHandlers } from "./rpc.ts";
import { loadAccountsSettings } from "./settings.ts";
import { KeyRing } from "./signing-keys.ts";

type Schema = typeof schema;
type Parts = { keys: KeyRing; accounts: Accounts; denyList: DenyList };

// The first unknown-email login would otherwise pay for making the decoy hash, and stand out.
const decoyWarmUp: BackgroundTask = {
  start: () => void prepareDecoy().catch(() => {}),
  stop: async () => {},
};

/**
 * The accounts service, reading its own settings (token lifetimes, failed
 * log-in limits) from `env` when an instance starts. Tests pass the same env
 * to `startService`.
 *
 * @example
 * await startService(accountsService(env), { env });
 */
export function accountsService(env: Record<string, string | undefined> = process.env) {
  // One key ring and one Accounts per running instance, shared by its routes, RPC and lifecycle.
  const partsOf = perInstance((ctx: ServiceContext<Schema>): Parts => {
    const settings = loadAccountsSettings(env);
    const keys = new KeyRing(ctx.store, ctx.logger);
    const limits = settings.loginLimits;
    const attempts = limits
      ? new LoginAttempts(opener(ctx, LOGIN_FAILURES_BUCKET), limits, ctx.logger)
      : null;
    const denyList = new DenyList({
      store: ctx.store,
      open: opener(ctx, revokedSessions),
      logger: ctx.logger,
    });
    return {
      keys,
      denyList,
      accounts: new Accounts(ctx.store, keys, settings, ctx.logger, attempts, denyList),
    };
  });

  // Ended sessions, watched by every edge.
  const revokedSessions = revokedSessionsBucket(() => loadAccountsSettings(env).accessTokenTtlS);

  return defineService({
    name: "accounts",
    // 2: sign-up answers 202 without tokens (it no longer tells which emails are registered).
    version: "2.0.0",
    // Log-ins and sign-ups are what a guesser repeats: a tight limit per caller.
    slo: { availability: 99.9, latencyP99Ms: 500, rateLimit: { limit: 120, windowMs: 60_000 } },
    description: "Accounts: sign up, log in, rotating refresh tokens, signing keys (JWKS), profile.",
    schema,
    migrationsFolder: new URL("./drizzle", import.meta.url).pathname,
    // Failed log-in counters every instance shares.
    kvBuckets: [LOGIN_FAILURES_BUCKET, revokedSessions],
    publicRoutes: PUBLIC_ROUTES,
    routes: (ctx) => {
      const { accounts, keys } = partsOf(ctx);
      return accountsRoutes(accounts, keys);
    },
    rpc: { contract: accountsRpc, handlers: (ctx) => accountsRpcHandlers(partsOf(ctx).keys) },
    background: (ctx) => [partsOf(ctx).keys, partsOf(ctx).denyList, decoyWarmUp],
  });
}

/** Opens a bucket once, again after a failure (the kit has made sure at start that it is there). */
function opener(ctx: ServiceContext<Schema>, bucket: KvBucketDefinition): () => Promise<KV> {
  let kv: Promise<KV> | null = null;
  return () => {
    kv ??= openKvBucket(ctx.nc, bucket, ctx.config.EVENTS_REPLICAS, 2_000).catch((err) => {
      kv = null;
      throw err;
    });
    return kv;
  };
}

export const service = accountsService();
