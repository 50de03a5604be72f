/**
 * A paced load for the cluster and rolling-restart tests: requests are issued
 * at a fixed rate (a schedule, not a wait for anything), each recorded with
 * what it was, whether it got the answer it should, and how long it took.
 * A client-side failure (no connection, a timeout) is a failure too.
 */
import { latencies } from "./processes.ts";

/** What one request came to. */
export type Answer = { what: string; ok: boolean; status: number; ms: number; detail?: string };

/** What a request function returns (its duration is measured here). */
export type Verdict = Omit<Answer, "ms">;

export class Load {
  readonly answers: Answer[] = [];
  private readonly pending = new Set<Promise<void>>();
  sent = 0;

  constructor(
    /** Requests per second. */
    private readonly rate: number,
    /** Sends request `i` and judges its answer; a throw counts as a failure. */
    private readonly one: (i: number) => Promise<Verdict>,
  ) {}

  /** Issues requests at the rate until `done()` is true, then waits for those in flight. */
  async run(done: () => boolean): Promise<void> {
    const t0 = performance.now();
    while (!done()) {
      const due = Math.floor(((performance.now() - t0) / 1000) * this.rate) + 1;
      while (this.sent < due) this.fire(this.sent++);
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all([...this.pending]);
  }

  /** Requests in flight now. */
  get inFlight(): number {
    return this.pending.size;
  }

  failures(): Answer[] {
    return this.answers.filter((a) => !a.ok);
  }

  /** Counts, failures and latencies by kind of request, for the test's log. */
  summary(): Record<string, { sent: number; failed: number; mean: number; p99: number; max: number }> {
    const kinds = new Map<string, Answer[]>();
    for (const a of this.answers) kinds.set(a.what, [...(kinds.get(a.what) ?? []), a]);
    return Object.fromEntries(
      [...kinds].map(([what, list]) => [
        what,
        { sent: list.length, failed: list.filter((a) => !a.ok).length, ...latencies(list.map((a) => a.ms)) },
      ]),
    );
  }

  private fire(i: number): void {
    const started = performance.now();
    const p = this.one(i)
      .catch((err: unknown): Verdict => ({ what: "request", ok: false, status: 0, detail: String(err) }))
      .then((v) => {
        this.answers.push({ ...v, ms: performance.now() - started });
      });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }
}
