/**
 * A free TCP port on `hostname` (127.0.0.1 unless told): for a pool whose
 * workers must all bind the same port, and for tests that start servers of
 * their own.
 *
 * The port is chosen below the kernel's ephemeral range
 * (`/proc/sys/net/ipv4/ip_local_port_range`, 32768 and up by default), not
 * handed out by the kernel: a port from that range is given again to the next
 * process that binds port 0 (a service started with `PORT=0`), so the server
 * it was chosen for could find it taken. A port is not returned twice by one
 * process.
 */
import { readFileSync } from "node:fs";

const LOWEST = 10_000;
const given = new Set<number>();

/** The first port of the kernel's ephemeral range (32768 where it cannot be read). */
function ephemeralStart(): number {
  try {
    const first = Number(
      readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0],
    );
    return Number.isInteger(first) && first > LOWEST + 1000 ? first : 32_768;
  } catch {
    return 32_768;
  }
}

/** Binds `port` and lets it go; whether that worked. */
function canBind(hostname: string, port: number): boolean {
  try {
    const probe = Bun.listen({ hostname, port, socket: { data() {} } });
    probe.stop(true);
    return true;
  } catch {
    return false;
  }
}

/**
 * A port nothing listens on now, below the ephemeral range.
 *
 * @example
 * const port = await freePort("0.0.0.0");
 */
export async function freePort(hostname = "127.0.0.1"): Promise<number> {
  const top = ephemeralStart();
  for (let tries = 0; tries < 200; tries++) {
    const port = LOWEST + Math.floor(Math.random() * (top - LOWEST));
    if (given.has(port) || !canBind(hostname, port)) continue;
    given.add(port);
    return port;
  }
  // Every try was taken (a very busy machine): the kernel's choice.
  const probe = Bun.listen({ hostname, port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}
