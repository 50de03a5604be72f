import { describe, expect, test } from "bun:test";
import { clientAddress, normalizeIp, parseIp, parseTrustedProxies } from "./client-address.ts";

describe("parseIp / normalizeIp", () => {
  test.each([
    ["203.0.113.9", "203.0.113.9"],
    ["0.0.0.0", "0.0.0.0"],
    ["::1", "::1"],
    ["::", "::"],
    ["2001:DB8::8:800:200C:417A", "2001:db8::8:800:200c:417a"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["fe80::1%eth0", "fe80::1"],
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["::ffff:7f00:1", "127.0.0.1"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
  ])("%s → %s", (text, canonical) => {
    expect(parseIp(text)).not.toBeNull();
    expect(normalizeIp(text)).toBe(canonical);
  });

  test.each([
    "",
    "1.2.3",
    "1.2.3.4.5",
    "256.1.1.1",
    "01.2.3.4",
    "1.2.3.4::",
    "1::2::3",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "12345::",
    "2001:db8::1%eth0", // a zone means something only on a link-local address
    "::ffff:1.2.3",
    "g::1",
    "proxy.internal",
    "unknown",
  ])("%p is no address", (text) => {
    expect(parseIp(text)).toBeNull();
  });
});

describe("parseTrustedProxies", () => {
  const trusted = parseTrustedProxies(["10.0.0.0/8", "192.168.1.7", "fd00::/8", "172.16.0.0/12"]);

  test.each([
    ["10.200.3.4", true],
    ["11.0.0.1", false],
    ["192.168.1.7", true],
    ["192.168.1.8", false],
    ["172.31.255.255", true],
    ["172.32.0.0", false],
    ["fd12::1", true],
    ["fe80::1", false],
    ["::ffff:10.1.1.1", true],
    ["garbage", false],
  ])("%s trusted: %p", (address, expected) => {
    expect(trusted.contains(address)).toBe(expected);
  });

  describe("IPv6 ranges", () => {
    const v6 = parseTrustedProxies([
      "2001:db8::/32",
      "2001:db8:ffff:1::/64",
      "fe80::/10",
      "2a00::/15",
      "::1",
    ]);

    test.each([
      ["2001:db8:1234::1", true],
      ["2001:DB8:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF", true],
      ["2001:db9::1", false],
      ["2001:db8:ffff:1:aaaa:bbbb:cccc:dddd", true], // inside the /32 and the /64
      ["fe80::1%eth0", true],
      ["febf:ffff::1", true],
      ["fec0::1", false],
      ["2a01:ffff::1", true], // a prefix that ends inside a group: 2a00 and 2a01 share their first 15 bits
      ["2a02::1", false],
      ["::1", true],
      ["0:0:0:0:0:0:0:1", true],
      ["::2", false],
      ["::ffff:2001:db8", false], // IPv4-mapped: the IPv4 address 32.1.13.184, in no IPv6 range
      ["32.1.13.184", false],
    ])("%s trusted: %p", (address, expected) => {
      expect(v6.contains(address)).toBe(expected);
    });

    test("/0 holds every address of its own family only", () => {
      const anyV6 = parseTrustedProxies(["::/0"]);
      expect(anyV6.contains("2001:db8::1")).toBe(true);
      expect(anyV6.contains("203.0.113.9")).toBe(false);
      const anyV4 = parseTrustedProxies(["0.0.0.0/0"]);
      expect(anyV4.contains("::ffff:203.0.113.9")).toBe(true);
      expect(anyV4.contains("2001:db8::1")).toBe(false);
    });

    test("a trusted IPv6 proxy's X-Forwarded-For names the client", () => {
      expect(clientAddress("2001:db8::7", "2001:db9::42, 2001:db8::8", v6)).toBe("2001:db9::42");
      expect(clientAddress("2001:db9::7", "198.51.100.1", v6)).toBe("2001:db9::7");
    });
  });

  test.each([
    ["10.0.0.0/33"],
    ["::/129"],
    ["proxy.internal"],
    ["10.0.0.0/x"],
    ["2001:db8::/-1"],
    ["fd00::/8/8"],
  ])("%p is refused", (entry) => {
    expect(() => parseTrustedProxies([entry])).toThrow(RangeError);
  });
});

describe("clientAddress", () => {
  const trusted = parseTrustedProxies(["10.0.0.0/8"]);

  test.each([
    ["an untrusted peer's X-Forwarded-For is ignored", "198.51.100.1", "203.0.113.9", "198.51.100.1"],
    ["no header: the peer", "10.0.0.5", null, "10.0.0.5"],
    ["a trusted proxy names the client", "10.0.0.5", "203.0.113.9", "203.0.113.9"],
    ["a spoofed entry left of the real one is skipped", "10.0.0.5", "6.6.6.6, 203.0.113.9", "203.0.113.9"],
    ["trusted hops are walked through", "10.0.0.5", "203.0.113.9, 10.0.0.9, 10.0.0.4", "203.0.113.9"],
    ["ports and brackets are dropped", "10.0.0.5", "[2001:db8::1]:443", "2001:db8::1"],
    ["IPv4 with a port", "10.0.0.5", "203.0.113.9:5123", "203.0.113.9"],
    ["garbage stops at the hop that passed it", "10.0.0.5", "203.0.113.9, nonsense", "10.0.0.5"],
    ["all hops trusted: the left-most", "10.0.0.5", "10.0.0.1, 10.0.0.2", "10.0.0.1"],
    ["a mapped peer is IPv4", "::ffff:198.51.100.1", "203.0.113.9", "198.51.100.1"],
  ])("%s", (_what, peer, xff, expected) => {
    expect(clientAddress(peer, xff, trusted)).toBe(expected);
  });

  test("no peer from the runtime: nothing can be believed", () => {
    expect(clientAddress(null, "203.0.113.9", trusted)).toBeNull();
    expect(clientAddress(undefined, null, trusted)).toBeNull();
  });
});
