import { describe, expect, test } from "bun:test";
import { clientAddress, normalizeIp, parseIp, parseTrustedProxies } from "./client-address.ts";

describe("parseIp / normalizeIp", () => {
  test.each([
    ["203.0.113.9", "203.0.113.9"],
    ["0.0.0.0", "0.0.0.0"],
    ["::1", "0:0:0:0:0:0:0:1"],
    ["::", "0:0:0:0:0:0:0:0"],
    ["2001:DB8::8:800:200C:417A", "2001:db8:0:0:8:800:200c:417a"],
    ["fe80::1%eth0", "fe80:0:0:0:0:0:0:1"],
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["::ffff:7f00:1", "127.0.0.1"],
    ["64:ff9b::192.0.2.33", "64:ff9b:0:0:0:0:c000:221"],
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

  test.each([["10.0.0.0/33"], ["::/129"], ["proxy.internal"], ["10.0.0.0/x"]])("%p is refused", (entry) => {
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
    ["ports and brackets are dropped", "10.0.0.5", "[2001:db8::1]:443", "2001:db8:0:0:0:0:0:1"],
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
