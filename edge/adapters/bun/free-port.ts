/** A free TCP port on `hostname`, for a pool whose workers must all bind the same one. */
export async function freePort(hostname: string): Promise<number> {
  const probe = Bun.listen({ hostname, port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}
