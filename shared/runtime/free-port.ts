/**
 * A free TCP port on `hostname` (127.0.0.1 unless told), from the kernel: for
 * a pool whose workers must all bind the same port, and for tests that start
 * servers of their own.
 *
 * @example
 * const port = await freePort("0.0.0.0");
 */
export async function freePort(hostname = "127.0.0.1"): Promise<number> {
  const probe = Bun.listen({ hostname, port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}
