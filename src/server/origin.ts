/**
 * Who may talk to the server: on a loopback address only requests naming it by a loopback name
 * (DNS rebinding), and WebSocket upgrades only from the server's own pages (cross-site hijacking).
 */

import { isIP } from 'node:net';

/** True for 127.0.0.0/8, ::1 (also as an IPv4-mapped address) and localhost. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) {
    // The URL parser writes IPv6 in its shortest form: 0:0:0:0:0:0:0:1 → ::1, ::ffff:127.0.0.1 → ::ffff:7f00:1.
    // A zone id ("::1%lo") passes isIP but not the URL parser, which threw on it (found by fuzzing): judge the address alone.
    const address = bare.split('%')[0]!;
    if (isIP(address) !== 6) return false;
    const canonical = new URL(`http://[${address}]/`).hostname;
    return canonical === '[::1]' || canonical.startsWith('[::ffff:7f');
  }
  return false;
}

/** `host:port` as it appears in a Host header: IPv6 addresses in brackets, lowercase. */
export function hostHeaderOf(host: string, port: number): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return isIP(bare) === 6 ? `[${bare}]:${port}` : `${bare}:${port}`;
}

export interface HostPolicy {
  /** Whether a request with this Host header may be answered. */
  hostAllowed(hostHeader: string | undefined): boolean;
  /** Whether a WebSocket upgrade with this Origin header (absent: not a browser page) may proceed. */
  originAllowed(origin: string | undefined, hostHeader: string | undefined): boolean;
}

/**
 * Bound to a loopback host, the Host header must be one of the names of this machine's loopback
 * with the bound port: a page on evil.example whose name was re-pointed at 127.0.0.1 still sends
 * `Host: evil.example`. Bound to another host the server is reachable from the network by design,
 * so any Host is accepted.
 */
export function hostPolicy(boundHost: string, port: number): HostPolicy {
  const loopback = isLoopbackHost(boundHost);
  const names = new Set([hostHeaderOf(boundHost, port), `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]);
  // Browsers leave out the default port.
  if (port === 80) for (const name of [...names]) names.add(name.slice(0, name.lastIndexOf(':')));
  const hostAllowed = (hostHeader: string | undefined): boolean => {
    if (!loopback) return true;
    return hostHeader !== undefined && names.has(hostHeader.toLowerCase());
  };
  return {
    hostAllowed,
    originAllowed(origin, hostHeader) {
      if (origin === undefined) return true;
      const own = new Set(loopback ? names : []);
      if (hostHeader !== undefined) own.add(hostHeader.toLowerCase());
      for (const name of own) if (origin.toLowerCase() === `http://${name}`) return true;
      return false;
    },
  };
}
