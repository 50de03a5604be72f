/**
 * "Ready" for the dev launcher: every service answers `$SRV.PING.<name>`
 * (ADR-32, so it is registered on NATS) and the edge answers `GET /healthz`.
 */
import type { NatsConnection } from "@nats-io/nats-core";

export type ReadinessCheck = {
  /** Name shown in progress and failure messages. */
  name: string;
  /** Resolves when ready; throws with a short reason when not. */
  probe: () => Promise<void>;
  /** Extra words for the failure message (e.g. how the process last exited). */
  describe?: () => string | null;
};

export type WaitOptions = {
  timeoutMs: number;
  /** Interval between progress lines. */
  progressEveryMs?: number;
  onProgress: (waitingFor: string) => void;
  signal: AbortSignal;
};

/** A service is ready when one of its instances replies to `$SRV.PING.<name>`. */
export function pingCheck(nc: NatsConnection, name: string): ReadinessCheck["probe"] {
  return async () => {
    try {
      await nc.request(`$SRV.PING.${name}`, undefined, { timeout: 1_000 });
    } catch (err) {
      const text = String(err);
      throw new Error(/no responders|503/i.test(text) ? `no reply to $SRV.PING.${name}` : text);
    }
  };
}

/** The edge is ready when `GET <url>` answers 200. */
export function httpCheck(url: string): ReadinessCheck["probe"] {
  return async () => {
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    } catch (err) {
      throw new Error(`GET ${url}: ${err instanceof Error ? err.message : String(err)}`);
    }
    await res.body?.cancel();
    if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}`);
  };
}

/**
 * Probes every check until all pass, printing who is still awaited now and
 * then; rejects after `timeoutMs` with a message naming what did not come up.
 */
export async function waitUntilReady(checks: ReadinessCheck[], options: WaitOptions): Promise<void> {
  const { timeoutMs, progressEveryMs = 5_000, onProgress, signal } = options;
  const pending = new Map(checks.map((c) => [c.name, c]));
  const reasons = new Map<string, string>();
  const started = Date.now();
  let lastProgress = started;
  while (pending.size > 0) {
    signal.throwIfAborted();
    await Promise.all(
      [...pending.values()].map(async (check) => {
        try {
          await check.probe();
          pending.delete(check.name);
        } catch (err) {
          reasons.set(check.name, err instanceof Error ? err.message : String(err));
        }
      }),
    );
    if (pending.size === 0) return;
    const now = Date.now();
    const waiting = () =>
      [...pending.values()]
        .map((c) => `${c.name} (${[reasons.get(c.name), c.describe?.()].filter(Boolean).join("; ")})`)
        .join(", ");
    if (now - started >= timeoutMs) {
      throw new Error(`not ready after ${Math.round(timeoutMs / 1000)} s: ${waiting()}`);
    }
    if (now - lastProgress >= progressEveryMs) {
      lastProgress = now;
      onProgress(`waiting for ${waiting()} — ${Math.round((now - started) / 1000)} s`);
    }
    await Bun.sleep(250);
  }
}
