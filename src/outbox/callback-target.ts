import { lookup as dnsLookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { HermesError } from "../errors.ts";

/**
 * Where a callback_url may point: not at Hermes' own machine or network. Without this an API
 * client could make Hermes POST to its own admin port, a router, a cloud metadata service
 * (169.254.169.254) or anything else only reachable from inside. The host is resolved (every
 * address, IPv4 and IPv6) and each address is checked, at submit time and again before each
 * delivery (the name may have been re-pointed since: DNS rebinding). Numeric spellings
 * (2130706433, 0x7f.1, 0177.0.0.1) are normalised by the URL parser before the check. Host names
 * listed in hermes.api.callback_allowed_hosts skip the check: local integrations on purpose.
 */
const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8], // "this network"; 0.0.0.0 reaches localhost on Linux
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT, Tailscale
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
] as const)
  BLOCKED.addSubnet(net, prefix, "ipv4");
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["64:ff9b::", 96], // NAT64: embeds an IPv4 address
  ["100::", 64], // discard
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // old site-local
  ["ff00::", 8], // multicast
] as const)
  BLOCKED.addSubnet(net, prefix, "ipv6");

/** IPv4-mapped and -compatible IPv6 (::ffff:127.0.0.1, ::ffff:7f00:1) → the IPv4 address. */
function embeddedIPv4(address: string): string | undefined {
  const m = /^::(?:ffff:)?(?:0:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m?.[1]) return m[1];
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex?.[1] || !hex[2]) return undefined;
  const hi = Number.parseInt(hex[1], 16);
  const lo = Number.parseInt(hex[2], 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** True for loopback, private, link-local, multicast and reserved addresses. */
export function isInternalAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return BLOCKED.check(address, "ipv4");
  if (family !== 6) return true; // not an address at all: never trust it
  const v4 = embeddedIPv4(address);
  if (v4 !== undefined) return BLOCKED.check(v4, "ipv4");
  return BLOCKED.check(address, "ipv6") || /^::ffff:/i.test(address);
}

/** "[::1]" → "::1", "Example.COM." → "example.com". */
function normalHost(host: string): string {
  return host
    .trim()
    .replace(/^\[|\]$/g, "")
    .toLowerCase()
    .replace(/\.$/, "");
}

export type LookupAll = (host: string) => Promise<{ address: string; family: number }[]>;

const systemLookup: LookupAll = (host) => dnsLookup(host, { all: true, verbatim: true });

function refused(message: string): HermesError {
  return new HermesError("INVALID_INPUT", `Invalid callback_url: ${message}.`, {
    details: "callback_url",
    userAction:
      "Use a public address; for a local integration add its host name to hermes.api.callback_allowed_hosts.",
  });
}

export interface CallbackTargetOptions {
  /** Host names (or literal addresses) allowed although they are internal. */
  allowedHosts: () => readonly string[];
  lookup?: LookupAll | undefined;
}

export class CallbackTargetPolicy {
  private readonly o: CallbackTargetOptions;
  constructor(options: CallbackTargetOptions) {
    this.o = options;
  }

  /** Resolves the URL's host and throws INVALID_INPUT when any address is internal. */
  async check(url: string): Promise<void> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw refused("not a URL");
    }
    if (this.isAllowed(parsed.hostname)) return;
    await this.addressOf(parsed.hostname);
  }

  private isAllowed(hostname: string): boolean {
    const allowed = this.o.allowedHosts().map(normalHost);
    return allowed.includes(normalHost(hostname));
  }

  /**
   * The address to connect to for `hostname`, checked: the socket's own lookup when delivering
   * (pinnedPost), so the address checked is the one connected to.
   */
  async addressOf(hostname: string): Promise<{ address: string; family: number }> {
    const host = normalHost(hostname);
    const addresses = isIP(host) ? [host] : await this.resolve(host);
    const first = addresses[0];
    if (first === undefined) throw refused(`${host} has no address`);
    if (!this.isAllowed(host))
      for (const address of addresses)
        if (isInternalAddress(address))
          throw refused(`${host} points at a loopback, private or link-local address`);
    return { address: first, family: isIP(first) };
  }

  private async resolve(host: string): Promise<string[]> {
    try {
      const found = await (this.o.lookup ?? systemLookup)(host);
      return found.map((a) => a.address);
    } catch {
      throw refused(`${host} cannot be resolved`);
    }
  }
}
