/**
 * The static peer list format, as given to `--peers` or `TROUPE_PEERS`:
 *
 *     [id@]host:port/linkPort[,[id@]host:port/linkPort...]
 *
 * - `host` is a host name, an IPv4 address, or an IPv6 address in brackets (`[::1]`).
 * - `port` is the peer's gateway port (it serves `/health/ready`), `linkPort` its node-link port.
 * - `id` defaults to `host:port`; give it explicitly when nodes know themselves by another id,
 *   since each node recognises itself in the list by id or by `host:port`.
 * - Spaces around entries are ignored; an empty string is an empty list.
 *
 * Example: `n1@10.0.0.1:8080/8081,n2@10.0.0.2:8080/8081,[fd00::3]:8080/8081`
 */
import type { Member } from '../discovery.js';
import { validateMember } from '../member-list.js';

const ENTRY = /^(?:([^@\s]+)@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})\/(\d{1,5})$/;

/** Parses and validates a peer list. Throws a TypeError naming the bad entry. */
export function parsePeers(text: string): Member[] {
  if (typeof text !== 'string') throw new TypeError('peers must be a string like "n1@10.0.0.1:8080/8081,..."');
  const peers: Member[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry.length === 0) continue;
    const m = ENTRY.exec(entry);
    if (m === null) throw new TypeError(`peers entry ${JSON.stringify(entry)} must look like [id@]host:port/linkPort`);
    const [, id, host, port, linkPort] = m;
    const address = host.startsWith('[') ? host.slice(1, -1) : host;
    peers.push(
      validateMember({ id: id ?? `${host}:${port}`, address, port: Number(port), linkPort: Number(linkPort) }, `peers entry ${JSON.stringify(entry)}`),
    );
  }
  checkUnique(peers);
  return peers;
}

/** Throws when two peers share an id or a gateway address. */
export function checkUnique(peers: readonly Member[]): void {
  const ids = new Set<string>();
  const endpoints = new Set<string>();
  for (const p of peers) {
    const endpoint = `${p.address}|${p.port}`;
    if (ids.has(p.id)) throw new TypeError(`peers list names id ${JSON.stringify(p.id)} twice`);
    if (endpoints.has(endpoint)) throw new TypeError(`peers list names ${p.address}:${p.port} twice`);
    ids.add(p.id);
    endpoints.add(endpoint);
  }
}

/** Formats members back into the peer list format (round-trips through `parsePeers`). */
export function formatPeers(peers: readonly Member[]): string {
  return peers
    .map((p) => `${p.id}@${p.address.includes(':') ? `[${p.address}]` : p.address}:${p.port}/${p.linkPort}`)
    .join(',');
}
