/**
 * The deny list of ended sessions, as this edge knows it: a watch of the
 * accounts service's `revoked_sessions` KV bucket (the live entries first,
 * then every change as it is written), kept in a Map from session id to the
 * time after which no token of it can be valid. A request's check is one Map
 * lookup. `loaded` settles once the entries that were live when the watch
 * began are in, so an edge that starts after a logout refuses that token
 * from its first request. Until the bucket can be watched (it does not exist
 * yet, NATS is away, the edge may not read it) the list holds what it had,
 * and the watch is retried in the background. Web standards only.
 */
import { jetstream } from "@nats-io/jetstream";
import { type KvEntry, Kvm, KvWatchInclude } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { type Logger, parseRevocation, REVOKED_SESSIONS_BUCKET } from "@runnerly/kit/web";

export type RevokedSessionsOptions = {
  nc: NatsConnection;
  logger: Logger;
  /** The KV bucket (default `revoked_sessions`). */
  bucket?: string;
  /** First pause before watching again after a failure; doubles up to `maxRetryMs` (default 500). */
  retryMs?: number;
  maxRetryMs?: number;
  /** How long an entry that is not a revocation is kept (default a day: longer than any token lives). */
  fallbackMs?: number;
  /** Longest wait of `loaded` for the live entries (default 2000 ms); a failed first try ends it at once. */
  loadWaitMs?: number;
};

/** How often expired entries are dropped, so the Map does not grow with sessions nobody presents. */
const SWEEP_MS = 60_000;

/**
 * Watches the bucket and answers `has(sessionId)` from memory.
 *
 * @example
 * const revoked = new RevokedSessions({ nc, logger });
 * revoked.start();
 * if (sid && revoked.has(sid)) return unauthorized("The session has ended.");
 */
export class RevokedSessions {
  readonly #until = new Map<string, number>();
  readonly #o: Required<Omit<RevokedSessionsOptions, "nc" | "logger">> & RevokedSessionsOptions;
  #stopped = false;
  #watching = false;
  #stop: { iterator: { stop(): void } | null; wake: () => void } = { iterator: null, wake: () => {} };
  #loop: Promise<void> | null = null;
  #sweeper: ReturnType<typeof setInterval> | null = null;
  #markLoaded: () => void = () => {};
  /**
   * Settles when the entries live at the first watch are listed, when that
   * watch fails (the bucket is missing or unreachable: nothing to wait for),
   * or after `loadWaitMs`; never rejects.
   */
  readonly loaded: Promise<void>;

  constructor(options: RevokedSessionsOptions) {
    this.#o = {
      bucket: REVOKED_SESSIONS_BUCKET,
      retryMs: 500,
      maxRetryMs: 10_000,
      fallbackMs: 24 * 3600_000,
      loadWaitMs: 2000,
      ...options,
    };
    this.loaded = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.#o.loadWaitMs);
      this.#markLoaded = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Whether a session is listed and its entry has not expired. */
  has(sessionId: string): boolean {
    const until = this.#until.get(sessionId);
    if (until === undefined) return false;
    if (Date.now() < until) return true;
    this.#until.delete(sessionId);
    return false;
  }

  /** Sessions listed now (expired ones included until the next sweep). */
  get size(): number {
    return this.#until.size;
  }

  /** Whether the watch runs (false before it first starts and while it is being retried). */
  get watching(): boolean {
    return this.#watching;
  }

  start(): void {
    this.#loop ??= this.#run();
    this.#sweeper = setInterval(() => this.#sweep(), SWEEP_MS);
  }

  async close(): Promise<void> {
    this.#stopped = true;
    this.#markLoaded();
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#stop.iterator?.stop();
    this.#stop.wake();
    await this.#loop;
  }

  /** Records one entry of the watch: a put lists its session, a delete or purge unlists it. */
  apply(entry: Pick<KvEntry, "key" | "operation" | "created" | "string">): void {
    if (entry.operation !== "PUT") {
      this.#until.delete(entry.key);
      return;
    }
    const revocation = parseRevocation(entry.string());
    this.#until.set(entry.key, revocation?.until ?? entry.created.getTime() + this.#o.fallbackMs);
  }

  async #run(): Promise<void> {
    const { nc, logger, bucket } = this.#o;
    let pause = this.#o.retryMs;
    let failures = 0;
    while (!this.#stopped) {
      try {
        const kv = await new Kvm(jetstream(nc)).open(bucket);
        // An empty bucket sends nothing to wait for.
        if ((await kv.status()).values === 0) this.#markLoaded();
        const iterator = await kv.watch({ include: KvWatchInclude.LastValue });
        this.#stop.iterator = iterator;
        if (this.#stopped) iterator.stop();
        this.#watching = true;
        logger.info({ bucket, retried: failures }, "watching revoked sessions");
        failures = 0;
        pause = this.#o.retryMs;
        for await (const entry of iterator) {
          this.apply(entry);
          // `delta`: how many messages of the watch's start were still to come after this one.
          if (entry.delta === 0) this.#markLoaded();
        }
        if (!this.#stopped) logger.warn({ bucket }, "the watch of revoked sessions ended; watching again");
      } catch (err) {
        // Logged on the first failure and then rarely: a missing bucket is retried for as long as it is missing.
        if (failures === 0 || failures % 20 === 0)
          logger.warn(
            { err: String(err), bucket, failures: failures + 1, known: this.#until.size },
            "cannot watch revoked sessions (bucket missing or unreachable): logged-out tokens are accepted until it can; retrying",
          );
        failures++;
        this.#markLoaded();
      } finally {
        this.#watching = false;
        this.#stop.iterator = null;
      }
      if (this.#stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pause);
        this.#stop.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      pause = Math.min(pause * 2, this.#o.maxRetryMs);
    }
  }

  #sweep(): void {
    const now = Date.now();
    for (const [session, until] of this.#until) if (until <= now) this.#until.delete(session);
  }
}
