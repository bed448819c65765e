import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * The SSRF guard of webhook URLs: receivers must be public http(s) servers. Loopback, private,
 * link-local, shared (CGNAT), unspecified, multicast and reserved ranges are refused, checked on
 * the addresses a name resolves to (every one of them), not on its spelling.
 */
const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  BLOCKED.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  BLOCKED.addSubnet(net, prefix, 'ipv6');

/** Whether an IP address is one a webhook must not be sent to. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return BLOCKED.check(address, 'ipv4');
  if (family !== 6) return true;
  // BlockList checks an IPv4-mapped address (::ffff:10.0.0.1, ::ffff:a00:1) against the IPv4
  // ranges: it reaches the IPv4 host it embeds.
  return BLOCKED.check(address, 'ipv6');
}

/** Why a URL cannot be a webhook's, or undefined when its form is fine (addresses aside). */
export function urlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be http or https';
  if (url.username || url.password) return 'must not carry credentials';
  return undefined;
}

function resolveAll(hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) =>
      err ? reject(err) : resolve(addresses),
    ),
  );
}

/**
 * Why a URL's host may not be sent to: it does not resolve, or an address it resolves to is
 * private. Undefined when allowed.
 */
export async function hostProblem(url: URL, allowPrivate: boolean): Promise<string | undefined> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: LookupAddress[];
  try {
    addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await resolveAll(host);
  } catch {
    return `host ${host} does not resolve`;
  }
  if (allowPrivate) return undefined;
  const bad = addresses.find((a) => isPrivateAddress(a.address));
  return bad ? `resolves to a loopback, private or link-local address (${bad.address})` : undefined;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for http.request that resolves the name and refuses a private address: the address
 * checked is the one connected to, so a name that changes its answer between a check and the
 * connection (DNS rebinding) cannot slip through.
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    resolveAll(hostname).then(
      (addresses) => {
        const bad = allowPrivate ? undefined : addresses.find((a) => isPrivateAddress(a.address));
        if (bad) {
          const err: NodeJS.ErrnoException = new Error(
            `refused: ${hostname} resolves to a loopback, private or link-local address (${bad.address})`,
          );
          err.code = 'EWEBHOOKPRIVATE';
          callback(err, '');
        } else if (options.all) callback(null, addresses);
        else callback(null, addresses[0].address, addresses[0].family);
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };
}
