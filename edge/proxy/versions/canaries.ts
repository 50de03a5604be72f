/**
 * Canary settings, shared by every edge through a NATS KV bucket
 * (`edge_canary`, one key per service: `{"major":2,"percent":10}`), written
 * by `runnerly canary` and `runnerly rollback`. Each edge reads the keys of
 * the services it routes with direct gets, every `intervalMs`: no consumer,
 * so the edge needs only read access to that one bucket. Until a read
 * succeeds, or when the bucket does not exist, no service has a canary.
 * Web standards only.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { CANARY_BUCKET, type Canary, canaryFrom, canaryKeySubject, type Logger } from "@runnerly/kit/web";

export type CanaryOptions = {
  nc: NatsConnection;
  logger: Logger;
  /** The services to read settings for (those the edge routes). */
  services: () => string[];
  bucket?: string;
  intervalMs?: number;
  timeoutMs?: number;
};

/**
 * Polls the canary settings; `get(service)` answers from memory.
 *
 * @example
 * const canaries = new CanarySettings({ nc, logger, services: () => table.list().map((r) => r.service) });
 * canaries.start();
 * chooseDestination(route, header, canaries.get(route.service));
 */
export class CanarySettings {
  readonly #settings = new Map<string, Canary>();
  readonly #o: Required<Omit<CanaryOptions, "logger" | "nc" | "services">> & CanaryOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | null = null;
  #stopped = false;
  #warned = false;

  constructor(options: CanaryOptions) {
    this.#o = { bucket: CANARY_BUCKET, intervalMs: 1000, timeoutMs: 1000, ...options };
  }

  get(service: string): Canary | undefined {
    return this.#settings.get(service);
  }

  /** Every service's setting, for `/_/slo` and the dashboard. */
  all(): Record<string, Canary> {
    return Object.fromEntries(this.#settings);
  }

  start(): void {
    const tick = () => {
      if (this.#stopped) return;
      this.#running = this.refresh().finally(() => {
        if (!this.#stopped) this.#timer = setTimeout(tick, this.#o.intervalMs);
      });
    };
    tick();
  }

  /** Reads every routed service's key once. */
  async refresh(): Promise<void> {
    const { nc, bucket, timeoutMs } = this.#o;
    const services = [...new Set(this.#o.services())];
    await Promise.all(
      services.map(async (service) => {
        try {
          const m = await nc.request(canaryKeySubject(bucket, service), "", { timeout: timeoutMs });
          const value = canaryFrom(m);
          if (value) this.#settings.set(service, value);
          else this.#settings.delete(service);
        } catch (err) {
          // No bucket (no responders) means no canaries; anything else keeps the last known setting.
          if (/no responders|503/i.test(String(err))) this.#settings.delete(service);
          else if (!this.#warned) {
            this.#warned = true;
            this.#o.logger.warn(
              { err: String(err), bucket },
              "cannot read canary settings; keeping the last known",
            );
          }
        }
      }),
    );
  }

  async close(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}
