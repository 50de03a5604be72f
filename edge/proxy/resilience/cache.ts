/**
 * Graceful degradation: the last good copy of each cacheable GET, kept in a
 * bounded LRU (entries and bytes), served only when the service cannot answer
 * (no responders, timeout, 5xx, open circuit), marked stale. It never serves a
 * fresh hit in place of the service. Entries are per caller: one user's copy
 * is never another's. Web standards only.
 */

import { cacheability, cacheKey, seconds } from "./cacheable.ts";

export type CacheOptions = {
  maxEntries: number;
  maxBytes: number;
  /** How long past its freshness a copy may stand in for a down service (unless it says `stale-if-error`). */
  maxStaleMs: number;
  now?: () => number;
};

type Entry = {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
  storedAt: number;
  /** `Age` the copy already had when stored, in seconds. */
  ageAtStore: number;
  staleUntil: number;
  /** Request header values the response varies on (`Vary`), as they were. */
  vary: [string, string | null][];
  size: number;
};

/**
 * The LRU of last good copies.
 *
 * @example
 * const cache = new StaleCache({ maxEntries: 1000, maxBytes: 32 << 20, maxStaleMs: 3_600_000 });
 * cache.store(key, req.headers, res.status, res.headers, body);
 * const stale = cache.stale(key, req.headers); // a Response marked stale, or null
 */
export class StaleCache {
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;
  readonly #now: () => number;

  constructor(private readonly options: CacheOptions) {
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Keeps a good response, or forgets the key when the response may not be
   * kept (the service changed its mind). Returns true when stored.
   */
  store(key: string, reqHeaders: Headers, status: number, headers: Headers, body: Uint8Array): boolean {
    this.delete(key);
    const rule = cacheability(status, headers);
    // Most answers say nothing of caching: they are not measured, let alone kept.
    if (!rule) return false;
    const kept = [...headers];
    const size = key.length + body.byteLength + kept.reduce((n, [k, v]) => n + k.length + v.length, 0);
    if (size > this.options.maxBytes / 4) return false;
    const now = this.#now();
    const vary = (headers.get("vary") ?? "")
      .split(",")
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean)
      .map((h): [string, string | null] => [h, reqHeaders.get(h)]);
    const ageAtStore = seconds(headers.get("age") ?? undefined) ?? 0;
    const freshUntil = now + rule.freshMs - ageAtStore * 1000;
    const staleUntil = freshUntil + (rule.staleIfErrorMs ?? this.options.maxStaleMs);
    const entry: Entry = {
      status,
      headers: kept,
      body,
      storedAt: now,
      ageAtStore,
      staleUntil,
      vary,
      size,
    };
    this.#entries.set(key, entry);
    this.#bytes += size;
    this.#evict();
    return true;
  }

  /** The kept copy for `key` as a stale response (`Age`, `Warning: 110`, `Mesh-Stale: true`), or null. */
  stale(key: string, reqHeaders: Headers): Response | null {
    const entry = this.#entries.get(key);
    if (!entry) return null;
    const now = this.#now();
    if (now > entry.staleUntil) {
      this.delete(key);
      return null;
    }
    if (entry.vary.some(([name, value]) => reqHeaders.get(name) !== value)) return null;
    // Most recently used last, so eviction takes the oldest first.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    const headers = new Headers(entry.headers);
    headers.set("age", String(entry.ageAtStore + Math.floor((now - entry.storedAt) / 1000)));
    headers.set("warning", '110 - "Response is Stale"');
    headers.set("mesh-stale", "true");
    return new Response(entry.body.slice() as Uint8Array<ArrayBuffer>, { status: entry.status, headers });
  }

  delete(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#bytes -= entry.size;
  }

  /** Forgets every caller's copy of `target` (after a successful unsafe request to it, RFC 9111 §4.4). */
  invalidate(target: string): void {
    const prefix = cacheKey("GET", target, "");
    for (const key of [...this.#entries.keys()]) if (key.startsWith(prefix)) this.delete(key);
  }

  #evict(): void {
    for (const key of this.#entries.keys()) {
      if (this.#entries.size <= this.options.maxEntries && this.#bytes <= this.options.maxBytes) return;
      this.delete(key);
    }
  }
}
