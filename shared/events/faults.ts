/**
 * Fault-injection points for crash tests. A point named in `MESH_FAULTS`
 * (comma-separated) kills the process with SIGKILL when reached, so a test can
 * crash a real service at an exact moment (e.g. after a consumer commits and
 * before it acks). Unset in normal runs, where a point costs one Set lookup.
 */
const armed = new Set(
  (process.env.MESH_FAULTS ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);

/** Crashes the process here when `name` is armed. */
export function faultPoint(name: string): void {
  if (armed.size > 0 && armed.has(name)) process.kill(process.pid, "SIGKILL");
}
