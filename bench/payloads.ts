/**
 * What every benchmarked path answers, so the HTTP ceiling, the NATS ceiling,
 * the edge and the Moleculer peer move the same bytes: one small JSON object
 * for `hello`, and runs-shaped rows for the point read.
 */

/** The small JSON every `hello` route answers (same bytes on every path). */
export const HELLO = { message: "hello", from: "bench" } as const;

/** `HELLO` as the bytes a raw NATS responder sends. */
export const HELLO_BYTES = new TextEncoder().encode(JSON.stringify(HELLO));

/** Rows seeded into each store; point reads pick one of them at random. */
export const SEED_ROWS = 10_000;

/** Largest body `/bytes/:n` serves: the reply must fit NATS's 1 MiB max_payload with headers. */
export const MAX_BYTES = 900_000;

/** The id of seeded row `n` (1-based): UUID-shaped like a run's id, and easy to make in wrk's Lua. */
export function rowId(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
}

/** A runs-shaped row: what a runner's run looks like in the runs service. */
export type BenchRow = {
  id: string;
  owner: string;
  distanceM: number;
  durationS: number;
  startedAt: string;
  kind: string;
  notes: string;
  createdAt: string;
  updatedAt: string;
};

/** Seed row `n`: deterministic, so every store holds the same rows. */
export function seedRow(n: number): BenchRow {
  const at = new Date(Date.UTC(2026, 0, 1) + n * 3_600_000).toISOString();
  return {
    id: rowId(n),
    owner: `user-${n % 100}`,
    distanceM: 5000 + (n % 17) * 250,
    durationS: 1500 + (n % 23) * 30,
    startedAt: at,
    kind: n % 3 === 0 ? "intervals" : "easy",
    notes: "morning loop along the river",
    createdAt: at,
    updatedAt: at,
  };
}

const byteBodies = new Map<number, Uint8Array<ArrayBuffer>>();

/** A body of exactly `n` bytes (cached: building it must not be what we measure). */
export function bytesBody(n: number): Uint8Array<ArrayBuffer> {
  let body = byteBodies.get(n);
  if (!body) {
    body = new Uint8Array(n).fill(0x61);
    byteBodies.set(n, body);
  }
  return body;
}
