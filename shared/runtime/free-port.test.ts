/** freePort: ports a server can bind, never from the range the kernel hands to `PORT=0` servers. */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { freePort } from "./free-port.ts";

test("ports below the ephemeral range, each bindable, none given twice", async () => {
  const ephemeral = Number(
    readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0],
  );
  const ports = [];
  for (let i = 0; i < 20; i++) ports.push(await freePort());
  expect(new Set(ports).size).toBe(20);
  for (const port of ports) {
    expect(port).toBeLessThan(ephemeral);
    const server = Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } });
    expect(server.port).toBe(port);
    server.stop(true);
  }
  // A server bound to port 0 gets a port of the ephemeral range, which freePort never hands out.
  const kernel = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  expect(kernel.port).toBeGreaterThanOrEqual(ephemeral);
  kernel.stop(true);
});
