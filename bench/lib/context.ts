/**
 * What every step of a benchmark run shares: where the repository and Bun
 * are, the NATS server, the pinning, the options, and where logs go.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import type { BenchOptions } from "./options.ts";
import type { Pinning } from "./pin.ts";
import type { Progress } from "./progress.ts";
import type { QuietGate } from "./quiet.ts";

export type BenchContext = {
  /** Repository root (the runner's working directory for every child). */
  root: string;
  /** The Bun binary running the benchmark, used for every server. */
  bun: string;
  natsUrl: string;
  natsPid: number;
  /** The runner's own connection (readiness checks, start-up timing). */
  nc: NatsConnection;
  pin: Pinning;
  options: BenchOptions;
  progress: Progress;
  /** Waits (bounded) for other processes to leave the CPU before each run. */
  quiet: QuietGate;
  /** Where seeded stores, logs, wrk scripts and profiles go (`.data/bench`). */
  workDir: string;
  logDir: string;
  /** The kit store of the bench service and the peer's plain SQLite file. */
  serviceDb: string;
  peerDb: string;
};
