/**
 * Test helper: speaks NATS in plaintext on a raw socket (INFO, then CONNECT
 * and PING) and returns everything the server said before it hung up, so a
 * test can prove that a server requiring TLS refuses plaintext clients. The
 * NATS clients cannot show this: they upgrade to TLS by themselves.
 */

/**
 * Resolves with the server's output once it closes the connection, or after
 * `ms` with `(still open after … ms)` appended.
 *
 * @example
 * expect(await plaintextConnect(nats.port)).not.toContain("PONG");
 */
export async function plaintextConnect(port: number, ms = 5_000): Promise<string> {
  const done = Promise.withResolvers<string>();
  let seen = "";
  let sent = false;
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(s, chunk) {
        seen += chunk.toString();
        if (!sent && seen.includes("INFO")) {
          sent = true;
          s.write('CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n');
        }
      },
      close: () => done.resolve(seen),
      error: () => done.resolve(seen),
    },
  });
  const timer = setTimeout(() => {
    socket.end();
    done.resolve(`${seen}(still open after ${ms} ms)`);
  }, ms);
  const out = await done.promise;
  clearTimeout(timer);
  return out;
}
