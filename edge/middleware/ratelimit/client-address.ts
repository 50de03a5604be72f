/**
 * Who the client is, by address: the peer the runtime saw, unless that peer
 * is a configured proxy (`EDGE_TRUSTED_PROXIES`), in which case
 * `X-Forwarded-For` is read from the right, skipping trusted hops, and the
 * first address no trusted proxy vouches for is the client. A client can put
 * anything in the header, but only entries appended by trusted proxies are
 * believed. Web standards only.
 *
 * The parser is hand-written (IPv4, IPv6 with `::`, embedded IPv4 and zone,
 * CIDR) rather than ipaddr.js: it is small, table-tested, and keeps a
 * CommonJS/UMD package out of the core that Deno loads and workerd bundles.
 */

/** Addresses and CIDR ranges of proxies whose `X-Forwarded-For` is believed. */
export type TrustedProxies = { contains(address: string): boolean; readonly size: number };

type Range = { bytes: Uint8Array; bits: number };

/**
 * Parses `10.0.0.0/8, 192.168.1.7, fd00::/8` (a bare address is a /32 or
 * /128). Throws a RangeError naming a bad entry.
 *
 * @example
 * const trusted = parseTrustedProxies(["10.0.0.0/8"]);
 * trusted.contains("10.1.2.3"); // true
 */
export function parseTrustedProxies(entries: readonly string[]): TrustedProxies {
  const ranges: Range[] = entries.map((entry) => {
    const [addr = "", bitsText] = entry.trim().split("/");
    const bytes = parseIp(addr);
    const max = bytes ? bytes.length * 8 : 0;
    const bits = bitsText === undefined ? max : /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : -1;
    if (!bytes || bits < 0 || bits > max) throw new RangeError(`not an address or CIDR range: ${entry}`);
    return { bytes, bits };
  });
  return {
    size: ranges.length,
    contains(address) {
      const bytes = parseIp(address);
      return bytes !== null && ranges.some((r) => inRange(bytes, r));
    },
  };
}

/**
 * The client's address for rate limiting: `peer` itself, or, when `peer` is a
 * trusted proxy, the right-most `X-Forwarded-For` entry that is not one. Null
 * when the runtime gave no peer (nothing can be believed then).
 *
 * @example
 * clientAddress("10.0.0.5", "203.0.113.9, 10.0.0.4", parseTrustedProxies(["10.0.0.0/8"])); // "203.0.113.9"
 * clientAddress("198.51.100.1", "203.0.113.9", parseTrustedProxies(["10.0.0.0/8"]));       // "198.51.100.1"
 */
export function clientAddress(
  peer: string | null | undefined,
  forwardedFor: string | null,
  trusted: TrustedProxies,
): string | null {
  if (!peer) return null;
  let client = normalizeIp(peer);
  if (!trusted.contains(client) || !forwardedFor) return client;
  const hops = forwardedFor.split(",");
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = stripPort(hops[i]?.trim() ?? "");
    // An entry that is no address was not written by a proxy we trust: stop at the hop that passed it on.
    if (parseIp(hop) === null) return client;
    client = normalizeIp(hop);
    if (!trusted.contains(client)) return client;
  }
  return client;
}

/** The canonical text of an address (IPv4-mapped IPv6 as IPv4, IPv6 in lower case, no zone). */
export function normalizeIp(address: string): string {
  const bytes = parseIp(address);
  if (!bytes) return address;
  if (bytes.length === 4) return bytes.join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(":");
}

/** `1.2.3.4` → 4 bytes; `::ffff:1.2.3.4` → 4 bytes (mapped); other IPv6 → 16 bytes; anything else → null. */
export function parseIp(text: string): Uint8Array | null {
  const v4 = parseIpv4(text);
  if (v4) return v4;
  const v6 = parseIpv6(text.replace(/%.*$/, ""));
  if (!v6) return null;
  const mapped = v6.slice(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
  return mapped ? v6.slice(12) : v6;
}

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = parts.map((p) => (/^(0|[1-9]\d{0,2})$/.test(p) ? Number(p) : 256));
  return bytes.every((b) => b <= 255) ? Uint8Array.from(bytes) : null;
}

function parseIpv6(text: string): Uint8Array | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (half: string | undefined) => (half ? half.split(":") : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  // An embedded IPv4 address stands for the last two groups (so it may only end the address).
  const last = halves.length === 2 ? tail : head;
  const v4 = last.length > 0 ? parseIpv4(last[last.length - 1] ?? "") : null;
  if (v4) last.splice(-1, 1, ((v4[0]! << 8) | v4[1]!).toString(16), ((v4[2]! << 8) | v4[3]!).toString(16));
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array<string>(halves.length === 1 ? 0 : missing).fill("0"), ...tail];
  const bytes = new Uint8Array(16);
  for (const [i, g] of all.entries()) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    const n = Number.parseInt(g, 16);
    bytes[i * 2] = n >> 8;
    bytes[i * 2 + 1] = n & 0xff;
  }
  return bytes;
}

/** `203.0.113.9:1234` and `[2001:db8::1]:443` → the address; anything else unchanged. */
function stripPort(hop: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracketed?.[1]) return bracketed[1];
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(hop);
  return v4WithPort?.[1] ?? hop;
}

function inRange(bytes: Uint8Array, r: Range): boolean {
  if (bytes.length !== r.bytes.length) return false;
  const whole = r.bits >> 3;
  for (let i = 0; i < whole; i++) if (bytes[i] !== r.bytes[i]) return false;
  const rest = r.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((bytes[whole] ?? 0) & mask) === ((r.bytes[whole] ?? 0) & mask);
}
