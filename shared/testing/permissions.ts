/**
 * Test helper: asks the server whether a connection may publish, subscribe or
 * request on a subject, and reports what the server said. A denial is the
 * server's `Permissions Violation` error for that very subject, read right
 * after a round trip, never a timeout: a test of many subjects stays fast.
 */
import { type NatsConnection, PermissionViolationError } from "@nats-io/nats-core";

export type Verdict = "denied" | "allowed";

/**
 * Watches one connection's permission errors.
 *
 * @example
 * const probe = new PermissionProbe(nc);
 * expect(await probe.publish("svc.runs.http")).toBe("denied");
 * expect(await probe.subscribe("svc.runs.>")).toBe("denied");
 */
export class PermissionProbe {
  private readonly violations: PermissionViolationError[] = [];

  constructor(
    readonly nc: NatsConnection,
    /** How long a probing request waits for a reply. */
    private readonly requestTimeoutMs = 2_000,
  ) {
    void this.watch();
  }

  /** Publishes one message; "denied" when the server refused it. */
  async publish(subject: string): Promise<Verdict> {
    const from = this.violations.length;
    this.nc.publish(subject, "probe");
    // The server answers PUB (with -ERR if refused) before the PONG of this flush.
    await this.nc.flush();
    return (await this.seen("publish", subject, from)) ? "denied" : "allowed";
  }

  /** Subscribes (in `queue`, if given) and unsubscribes; "denied" when the server refused the subscription. */
  async subscribe(subject: string, queue?: string): Promise<Verdict> {
    const from = this.violations.length;
    const sub = this.nc.subscribe(subject, queue ? { queue } : {});
    await this.nc.flush();
    const denied = await this.seen("subscription", subject, from);
    if (!sub.isClosed()) sub.unsubscribe();
    return denied ? "denied" : "allowed";
  }

  /** Sends a request; "denied" when the server refused to publish it (no reply or no responders is "allowed"). */
  async request(subject: string, body = "{}"): Promise<Verdict> {
    try {
      await this.nc.request(subject, body, { timeout: this.requestTimeoutMs });
      return "allowed";
    } catch (err) {
      // nats.js wraps it in a RequestError.
      const cause = err instanceof Error ? err.cause : undefined;
      return err instanceof PermissionViolationError || cause instanceof PermissionViolationError
        ? "denied"
        : "allowed";
    }
  }

  /**
   * Whether a violation of `operation` on `subject` came after index `from`.
   * Called after a flush: the server sent any -ERR before that PONG, and the
   * client parsed it before resolving the flush; its status event reaches
   * `watch` through promise callbacks, all run before the next macrotask.
   */
  private async seen(operation: string, subject: string, from: number): Promise<boolean> {
    await new Promise((resolve) => setImmediate(resolve));
    return this.violations.slice(from).some((v) => v.operation === operation && v.subject === subject);
  }

  private async watch(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === "error" && s.error instanceof PermissionViolationError) {
        this.violations.push(s.error);
      }
    }
  }
}
