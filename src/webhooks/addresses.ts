/**
 * Which addresses a webhook may reach, checked where the connection is made.
 *
 * Safety rules, unless `WEBHOOK_ALLOW_PRIVATE` is on:
 * - Only public unicast addresses: loopback, private, shared (CGNAT), link-local (cloud metadata
 *   at 169.254.169.254), multicast, reserved and documentation ranges are refused.
 * - An IPv6 address that carries an IPv4 one (IPv4-mapped `::ffff:a.b.c.d`, NAT64
 *   `64:ff9b::/96`, 6to4 `2002::/16`) is judged by the IPv4 address it carries; the deprecated
 *   IPv4-compatible `::a.b.c.d` is refused outright.
 * - A name is resolved once per connection by {@link guardedLookup}, every answer is checked,
 *   and the socket connects to exactly the checked answers: nothing is resolved again between
 *   the check and the connection, so DNS rebinding has no window. One refused answer refuses
 *   the name.
 * - A literal IP in the URL never reaches a lookup (Node connects to it directly), so it is
 *   checked before the request by {@link refusedAddress}.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

const REFUSED = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // shared address space (carrier-grade NAT)
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  REFUSED.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 96], // unspecified, loopback, deprecated IPv4-compatible
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments, Teredo
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  REFUSED.addSubnet(network, prefix, 'ipv6');
}

/** The eight 16-bit groups of an IPv6 address (without a zone), or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const bytes = dotted[1].split('.').map(Number);
    text =
      text.slice(0, -dotted[1].length) +
      [(bytes[0]! << 8) | bytes[1]!, (bytes[2]! << 8) | bytes[3]!].map((n) => n.toString(16)).join(':');
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const groups = [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 && groups.every((group) => Number.isInteger(group)) ? groups : undefined;
}

/** The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4), if any. */
function embeddedIPv4(address: string): string | undefined {
  const groups = ipv6Groups(address);
  if (!groups) return undefined;
  const toIPv4 = (high: number, low: number) => [high >> 8, high & 255, low >> 8, low & 255].join('.');
  const zeros = (from: number, to: number) => groups.slice(from, to).every((group) => group === 0);
  const [g0, g1, g2, , , g5, g6, g7] = groups as [number, number, number, number, number, number, number, number];
  if (zeros(0, 5) && g5 === 0xffff) return toIPv4(g6, g7); // ::ffff:a.b.c.d
  if (g0 === 0x64 && g1 === 0xff9b && zeros(2, 6)) return toIPv4(g6, g7); // NAT64
  if (g0 === 0x2002) return toIPv4(g1, g2); // 6to4
  return undefined;
}

/** Whether `address` (an IP literal, brackets and zone allowed) is a public unicast address. */
export function isPublicAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const version = isIP(bare);
  if (version === 4) return !REFUSED.check(bare, 'ipv4');
  if (version !== 6) return false;
  const ipv4 = embeddedIPv4(bare);
  if (ipv4 !== undefined) return isPublicAddress(ipv4);
  return !REFUSED.check(bare, 'ipv6');
}

export class RefusedTargetError extends Error {
  constructor(host: string, address: string) {
    const via = host === address ? address : `${host} (${address})`;
    super(`refused: ${via} is not a public address (WEBHOOK_ALLOW_PRIVATE is off)`);
    this.name = 'RefusedTargetError';
  }
}

/** For a literal IP host: why it is refused, or undefined. Names are checked by {@link guardedLookup}. */
export function refusedAddress(host: string, allowPrivate: boolean): RefusedTargetError | undefined {
  const bare = host.replace(/^\[|\]$/g, '');
  if (allowPrivate || isIP(bare) === 0 || isPublicAddress(bare)) return undefined;
  return new RefusedTargetError(bare, bare);
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
type Resolver = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * A `lookup` for `http.request` that resolves the name, refuses it if any answer is not public,
 * and hands the socket the answers it checked. Node asks for one address or all of them
 * (happy eyeballs); both are answered.
 */
export function guardedLookup(allowPrivate: boolean, resolve: Resolver = dnsLookup) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const refused = allowPrivate ? undefined : addresses.find((answer) => !isPublicAddress(answer.address));
      if (refused)
        return callback(
          Object.assign(new RefusedTargetError(hostname, refused.address), { code: 'EREFUSEDTARGET' }),
          [],
        );
      const [first] = addresses;
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      if (options.all) callback(null, addresses);
      else callback(null, first.address, first.family);
    });
  };
}
