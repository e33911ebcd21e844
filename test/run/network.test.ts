/**
 * The interface rule for jobs across machines (src/run/network.ts), on
 * route tables and host views written out by hand: /proc/net/route's fields,
 * the most specific route (a brute-force oracle over every route), and when
 * Gloo's own choice is kept, replaced or refused. test/run/two_hosts.test.ts
 * checks the same against `ip route get` and real network namespaces.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { glooInterfaceFor, HostView, ipv4Number, parseRoutes, Route, routeInterface } from '../../src/run/network';
import { BadInputError } from '../../src/util/errors';

// As the kernel prints them on a little-endian host: 10.231.0.0/24 is 0000E70A / 00FFFFFF.
const TABLE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
vA\t0000E70A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
wA\t0008E70A\t00000000\t0001\t0\t0\t0\t00FCFFFF\t0\t0\t0
vA\t8008E70A\t0200E70A\t0003\t0\t0\t0\t80FFFFFF\t0\t0\t0
vA\t000CE70A\t0200E70A\t0003\t0\t0\t5\t00FFFFFF\t0\t0\t0
wA\t000CE70A\t0201E70A\t0003\t0\t0\t1\t00FFFFFF\t0\t0\t0
down\t000DE70A\t00000000\t0000\t0\t0\t0\t00FFFFFF\t0\t0\t0
`;

describe('routes: /proc/net/route and the most specific route', () => {
  it('reads each route that is up, addresses most significant byte first', () => {
    const routes = parseRoutes(TABLE, true);
    assert.equal(routes.length, 6); // 'down' (flags 0) is not up
    assert.deepEqual(routes[1], { iface: 'vA', destination: ipv4Number('10.231.0.0'), mask: ipv4Number('255.255.255.0'), metric: 0 });
    assert.deepEqual(routes[3], { iface: 'vA', destination: ipv4Number('10.231.8.128'), mask: ipv4Number('255.255.255.128'), metric: 0 });
    assert.equal(ipv4Number('255.255.255.255'), 2 ** 32 - 1);
  });

  it('picks the longest matching prefix, then the lowest metric (a brute-force oracle over every route and address)', () => {
    const routes = parseRoutes(TABLE, true);
    // The oracle compares bit strings: the mask's leading ones are the prefix length.
    const bits = (n: number) => n.toString(2).padStart(32, '0');
    const prefix = (r: Route) => (bits(r.mask).includes('0') ? bits(r.mask).indexOf('0') : 32);
    const matches = (ip: string, r: Route) => bits(ipv4Number(ip)).slice(0, prefix(r)) === bits(r.destination).slice(0, prefix(r));
    for (const ip of ['10.231.0.2', '10.231.9.5', '10.231.8.200', '10.231.8.100', '10.231.12.7', '10.231.13.1', '8.8.8.8', '192.0.2.1']) {
      const best = routes.filter((r) => matches(ip, r)).sort((a, b) => prefix(b) - prefix(a) || a.metric - b.metric)[0];
      assert.equal(routeInterface(ip, routes), best?.iface ?? null, ip);
    }
    assert.equal(routeInterface('10.231.12.7', routes), 'wA'); // the same /24 twice: metric 1 beats 5
    assert.equal(routeInterface('10.231.8.200', routes), 'vA'); // the /25 inside the /22
    assert.equal(routeInterface('10.231.13.1', routes.filter((r) => r.iface !== 'eth0')), null);
  });
});

describe('glooInterfaceFor: which interface Gloo binds', () => {
  const host = (names: Record<string, string[]>, over: Partial<HostView> = {}): HostView => ({
    hostname: 'node1',
    resolve: async (name) => names[name] ?? [],
    interfaces: { lo: [{ address: '127.0.0.1', internal: true } as never], vA: [{ address: '10.231.0.1', internal: false } as never] },
    routes: () => parseRoutes(TABLE, true),
    ...over,
  });
  const trap = { node1: ['127.0.0.1'], master: ['10.231.12.9'], 'localhost': ['127.0.0.1'], '10.231.0.1': ['10.231.0.1'], nowhere: ['10.9.9.9'] };

  it('a host name that resolves to loopback, MASTER_ADDR elsewhere: the interface of its route, and a line saying so', async () => {
    const chosen = await glooInterfaceFor('master', {}, host(trap));
    assert.deepEqual(chosen, { iface: 'wA', note: "the host name 'node1' resolves to 127.0.0.1 (loopback): Gloo binds wA, the interface whose route reaches MASTER_ADDR master (GLOO_SOCKET_IFNAME chooses another)" });
  });

  it('on the machine that holds MASTER_ADDR (rank 0): the interface holding it', async () => {
    assert.equal((await glooInterfaceFor('10.231.0.1', {}, host(trap)))?.iface, 'vA');
  });

  it('a host name that does not resolve counts as loopback (Gloo falls back to it)', async () => {
    const chosen = await glooInterfaceFor('master', {}, host({ master: ['10.231.12.9'] }));
    assert.match(chosen!.note, /'node1' does not resolve \(Gloo falls back to loopback\): Gloo binds wA/);
  });

  it('keeps Gloo\'s choice with GLOO_SOCKET_IFNAME, a loopback MASTER_ADDR, a host name that resolves elsewhere, or an unresolvable master', async () => {
    assert.equal(await glooInterfaceFor('master', { GLOO_SOCKET_IFNAME: 'eth7' }, host(trap)), null);
    assert.equal(await glooInterfaceFor('localhost', {}, host(trap)), null);
    assert.equal(await glooInterfaceFor('master', {}, host({ ...trap, node1: ['10.231.0.1', '127.0.0.1'] })), null);
    assert.equal(await glooInterfaceFor('unknown-host', {}, host(trap)), null);
  });

  it('no interface but loopback reaches MASTER_ADDR: a BadInputError naming the loopback resolution and GLOO_SOCKET_IFNAME', async () => {
    const noRoute = host(trap, { routes: () => parseRoutes(TABLE, true).filter((r) => r.iface !== 'eth0') });
    await assert.rejects(glooInterfaceFor('nowhere', {}, noRoute), (e: Error) => e instanceof BadInputError &&
      /the host name 'node1' resolves to 127\.0\.0\.1 \(loopback\), .* no interface but loopback reaches MASTER_ADDR nowhere \(10\.9\.9\.9\): set GLOO_SOCKET_IFNAME .*`ip route get 10\.9\.9\.9`/.test(e.message));
  });
});
