/**
 * The accounts service's public keys, fetched over NATS (an ADR-32 RPC that
 * answers with a JWKS) and cached: refreshed on a timer, and at once (at most
 * once a second) when a token names a key the cache doesn't have, so a
 * rotation is picked up by the first token signed with the new key.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import type { Logger } from "@runnerly/kit/web";
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";

export type JwksOptions = {
  /** Subject of the RPC that answers with `{ keys: [...] }` (the accounts service's `jwks`). */
  subject: string;
  /** Refresh period (default 30 s): how long a removed key may still verify at most. */
  refreshMs?: number;
  /** Least time between two fetches triggered by unknown key ids. */
  minRefetchMs?: number;
  requestTimeoutMs?: number;
};

export class JwksCache {
  #jwks: JSONWebKeySet | null = null;
  #getKey: JWTVerifyGetKey | null = null;
  #lastFetch = 0;
  #inflight: Promise<void> | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: JwksOptions,
    private readonly logger: Logger,
  ) {}

  /** Starts the periodic refresh (the first fetch happens at once, in the background). */
  start(): void {
    void this.refresh().catch(() => {});
    this.#timer = setInterval(() => void this.refresh().catch(() => {}), this.options.refreshMs ?? 30_000);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  /** The keys as last fetched, or null when none could be had yet. */
  get current(): JSONWebKeySet | null {
    return this.#jwks;
  }

  /** The key resolver of the set as last fetched, or null (no fetch has succeeded yet); never waits. */
  get loadedKey(): JWTVerifyGetKey | null {
    return this.#getKey;
  }

  /** A key resolver for jose, fetching the set first if there is none yet. */
  async getKey(): Promise<JWTVerifyGetKey | null> {
    if (!this.#getKey) await this.refresh().catch(() => {});
    return this.#getKey;
  }

  /**
   * Makes sure the keys were fetched after this call began (a key minted a
   * moment after the last fetch is then known). Fetches start at most once
   * per `minRefetchMs`, so tokens naming made-up keys can't flood the accounts
   * service; a caller that comes sooner waits for the next allowed fetch.
   */
  async refetchForUnknownKey(): Promise<void> {
    const askedAt = Date.now();
    const wait = this.#lastFetch + (this.options.minRefetchMs ?? 1000) - askedAt;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await this.#inflight?.catch(() => {});
    if (this.#lastFetch < askedAt) await this.refresh().catch(() => {});
  }

  /** One fetch at a time; concurrent callers share it. */
  refresh(): Promise<void> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  async #fetch(): Promise<void> {
    this.#lastFetch = Date.now();
    try {
      const reply = await this.nc.request(this.options.subject, "{}", {
        timeout: this.options.requestTimeoutMs ?? 2000,
      });
      if (reply.headers?.get("Nats-Service-Error-Code"))
        throw new Error(`JWKS RPC failed: ${reply.headers.get("Nats-Service-Error")}`);
      const jwks = reply.json<JSONWebKeySet>();
      if (!jwks || !Array.isArray(jwks.keys)) throw new Error("JWKS RPC answered without keys");
      this.#jwks = { keys: jwks.keys };
      this.#getKey = createLocalJWKSet(this.#jwks);
    } catch (err) {
      this.logger.warn({ err: String(err), subject: this.options.subject }, "could not fetch the JWKS");
      throw err;
    }
  }
}
