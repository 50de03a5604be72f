/**
 * Admission of large request bodies (GPX uploads): each one is a single NATS
 * message of megabytes that costs the receiving service's event loop tens of
 * milliseconds to take in (nats.js grows its read buffer by copying), before
 * any handler sees it. One caller sending a dozen at once would stall the
 * service for every other caller, so the edge lets through at most
 * `perCaller` large bodies per caller and service at a time (more: 429) and
 * at most `perInstance` per instance of the service (more: 503), each with
 * `Retry-After`. Small bodies are never counted. The counts are this edge
 * worker's own. Web standards only.
 */
import { MeshError } from "@runnerly/kit/web";
import { EDGE_DEFAULTS } from "../defaults.ts";

export type LargeBodySettings = {
  /** Bodies of at least this many bytes are large (0: no limit at all). */
  bytes: number;
  /** Large bodies one caller may have in flight to one service. */
  perCaller: number;
  /** Large bodies in flight to one service, per instance it has. */
  perInstance: number;
};

export const DEFAULT_LARGE_BODIES: LargeBodySettings = EDGE_DEFAULTS.largeBodies;

/** A large body let through: release it once its request is answered. */
export type Admission = { release(): void };

const NOTHING: Admission = { release() {} };

export class LargeBodies {
  readonly #perService = new Map<string, number>();
  readonly #perCaller = new Map<string, number>();

  constructor(readonly settings: LargeBodySettings = DEFAULT_LARGE_BODIES) {}

  /**
   * Lets a body through (small ones always), or answers why not.
   *
   * @example
   * const admitted = largeBodies.admit("runs", user ?? address, body.byteLength, instances);
   * if (admitted instanceof MeshError) return admitted.toResponse(path);
   * try { … } finally { admitted.release(); }
   */
  admit(service: string, caller: string, size: number, instances: number): Admission | MeshError {
    const { bytes, perCaller, perInstance } = this.settings;
    if (bytes <= 0 || size < bytes) return NOTHING;
    const callerKey = `${service}\u0000${caller}`;
    const mine = this.#perCaller.get(callerKey) ?? 0;
    if (mine >= perCaller) {
      return new MeshError(429, {
        detail: `You have ${mine} large upload${mine === 1 ? "" : "s"} to ${service} in progress (at most ${perCaller} at a time); send the next one when it is answered.`,
        headers: { "retry-after": "1" },
      });
    }
    const all = this.#perService.get(service) ?? 0;
    const limit = perInstance * Math.max(1, instances);
    if (all >= limit) {
      return new MeshError(503, {
        detail: `${service} is taking in ${all} large uploads already; retry shortly.`,
        headers: { "retry-after": "2" },
      });
    }
    this.#perCaller.set(callerKey, mine + 1);
    this.#perService.set(service, all + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        decrement(this.#perCaller, callerKey);
        decrement(this.#perService, service);
      },
    };
  }

  /** Large bodies in flight to `service` (tests, figures). */
  inFlight(service: string): number {
    return this.#perService.get(service) ?? 0;
  }
}

function decrement(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 1) - 1;
  if (n > 0) map.set(key, n);
  else map.delete(key);
}
