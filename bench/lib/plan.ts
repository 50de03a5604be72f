/** How long a run will take, printed before it starts. */
import type { BenchOptions } from "./options.ts";

/** Scenarios per group (edge: direct, hello, item, three sizes, the other worker count; tasks: Runnerly, its JetStream ceiling, BullMQ three ways). */
const SCENARIOS = {
  stack: 4,
  ceilings: 4,
  edge: 7,
  growth: 3,
  peer: 3,
  startup: 0,
  events: 0,
  tasks: 5,
} as const;
/** Seconds to start and stop each group's servers, measured on a 2-core machine. */
// The event pipeline times itself: about 15 s for its 20,000 events both ways, four times. The shipped
// stack: the launcher's start, seeding 300 runs through the API, a login per row, the stop.
// Tasks: nats-server and two services, twice (the kit, its ceiling), then redis-server and two processes, three times.
const STACK_SECONDS = {
  stack: 9,
  ceilings: 2,
  edge: 6,
  growth: 3,
  peer: 7,
  startup: 0,
  events: 15,
  tasks: 10,
} as const;

/**
 * Expected wall time in seconds: each scenario's warm-up and runs plus a
 * little per run (wrk and process start), the stacks, and the timed starts.
 *
 * @example
 * expectedSeconds(parseBenchOptions([])); // ≈ 500
 */
export function expectedSeconds(options: BenchOptions): number {
  // Each run: its length, wrk start-up, and the half-second quiet check before it.
  const perScenario = options.warmup + options.runs * (options.seconds + 0.8) + 1;
  let total = 3; // seeding and nats-server
  for (const g of options.groups) total += SCENARIOS[g] * perScenario + STACK_SECONDS[g];
  if (options.groups.includes("ceilings")) total += 3 * (options.runs + 1) * 1.3; // the NATS client's own warm-up
  if (options.groups.includes("startup")) total += 2 + options.starts * 2 * 0.8;
  return Math.round(total);
}
