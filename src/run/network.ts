/**
 * Which network interface Gloo binds when a job spans machines (issue 26).
 * Gloo tells the other ranks the address of the device it binds; without
 * GLOO_SOCKET_IFNAME that is the first address this host's name resolves to
 * (as PyTorch's createDefaultDevice; loopback when it does not resolve), and
 * a common /etc/hosts line, `127.0.0.1 HOSTNAME`, makes it 127.0.0.1: every
 * peer is then told to connect to its own loopback, and the join fails. So
 * when the host name resolves to loopback and MASTER_ADDR is not a loopback
 * address, Gloo binds the interface that reaches MASTER_ADDR: the one holding
 * it (on rank 0's machine), else the one its route leaves through, as
 * `ip route get MASTER_ADDR` answers for the main IPv4 table (/proc/net/route:
 * longest prefix, then lowest metric).
 * @example
 *   const choice = await glooInterfaceFor('10.231.0.1');  // { iface: 'vA', note: "the host name 'vm' resolves to ..." } or null
 */
import * as dns from 'node:dns';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { BadInputError } from '../util/errors';

export interface Route {
  iface: string;
  /** Destination and mask as unsigned 32-bit numbers, most significant byte first (10.0.0.0/8: 0x0a000000, 0xff000000). */
  destination: number;
  mask: number;
  metric: number;
}

/** The kernel prints each address field as the u32 in memory, in hex: on a little-endian host its bytes come reversed. */
function hexAddress(hex: string, littleEndian: boolean): number {
  const v = parseInt(hex, 16) >>> 0;
  return littleEndian ? (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0 : v;
}

/** The routes that are up in /proc/net/route's text (columns Iface, Destination, Gateway, Flags, RefCnt, Use, Metric, Mask, ...). */
export function parseRoutes(text: string, littleEndian = os.endianness() === 'LE'): Route[] {
  const RTF_UP = 0x1;
  return text.split('\n').slice(1).map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 8 && (parseInt(f[3], 16) & RTF_UP) !== 0)
    .map((f) => ({ iface: f[0], destination: hexAddress(f[1], littleEndian), mask: hexAddress(f[7], littleEndian), metric: Number(f[6]) }));
}

/** 10.231.0.1 as 0x0ae70001. */
export function ipv4Number(ip: string): number {
  return ip.split('.').reduce((n, b) => n * 256 + Number(b), 0);
}

const popcount = (x: number) => x.toString(2).replace(/0/g, '').length;

/** The interface of the most specific route to `ip` (longest mask, then lowest metric), or null when none matches. */
export function routeInterface(ip: string, routes: Route[]): string | null {
  const x = ipv4Number(ip);
  let best: Route | null = null;
  for (const r of routes) {
    if (((x & r.mask) >>> 0) !== r.destination) continue;
    if (!best || popcount(r.mask) > popcount(best.mask) || (popcount(r.mask) === popcount(best.mask) && r.metric < best.metric)) best = r;
  }
  return best?.iface ?? null;
}

const isLoopback = (ip: string) => /^127\./.test(ip) || ip === '::1' || /^::ffff:127\./.test(ip);

/** What glooInterfaceFor reads of this machine (replaceable in tests). */
export interface HostView {
  hostname: string;
  /** The addresses a name resolves to, in getaddrinfo's order (a name that does not resolve: []). */
  resolve: (name: string) => Promise<string[]>;
  interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>;
  routes: () => Route[];
}

export const thisHost = (): HostView => ({
  hostname: os.hostname(),
  resolve: (name) => dns.promises.lookup(name, { all: true, verbatim: true }).then((a) => a.map((x) => x.address), () => []),
  interfaces: os.networkInterfaces(),
  routes: () => parseRoutes(fs.readFileSync('/proc/net/route', 'utf8')),
});

/**
 * The interface Gloo must bind for a job whose rank 0 is at masterAddr, with
 * the line that says why; null when Gloo's own choice works (GLOO_SOCKET_IFNAME
 * set, a local job on loopback, or a host name that resolves to another
 * address). A BadInputError naming GLOO_SOCKET_IFNAME when the host name
 * resolves to loopback and no other interface reaches masterAddr.
 */
export async function glooInterfaceFor(masterAddr: string, env: NodeJS.ProcessEnv = process.env, host: HostView = thisHost()): Promise<{ iface: string; note: string } | null> {
  if (env.GLOO_SOCKET_IFNAME) return null;
  const master = await host.resolve(masterAddr);
  if (master.length === 0 || master.some(isLoopback)) return null; // an unresolvable name fails at the store, saying so
  const own = await host.resolve(host.hostname);
  if (own.length > 0 && !isLoopback(own[0])) return null;
  const resolves = `the host name '${host.hostname}' ${own.length ? `resolves to ${own[0]} (loopback)` : 'does not resolve (Gloo falls back to loopback)'}`;
  const holder = Object.entries(host.interfaces).find(([, addrs]) => addrs?.some((a) => master.includes(a.address) && !a.internal))?.[0];
  const ipv4 = master.find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a));
  const routed = holder ?? (ipv4 ? routeInterface(ipv4, host.routes()) : null);
  if (!routed || routed === 'lo') {
    throw new BadInputError(`distributed job: ${resolves}, so Gloo would tell the other machines to connect to 127.0.0.1, and no interface ` +
      `but loopback reaches MASTER_ADDR ${masterAddr}${ipv4 && ipv4 !== masterAddr ? ` (${ipv4})` : ''}: set GLOO_SOCKET_IFNAME to the interface ` +
      `the other machines reach (the one \`ip route get ${ipv4 ?? master[0]}\` names), or map the host name to its address in /etc/hosts`);
  }
  return { iface: routed, note: `${resolves}: Gloo binds ${routed}, the interface ${holder ? 'that holds' : 'whose route reaches'} MASTER_ADDR ${masterAddr} (GLOO_SOCKET_IFNAME chooses another)` };
}
