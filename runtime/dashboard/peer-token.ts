/**
 * With auth on, a node's dashboard reads its peers' /dash/node.json with a
 * short-lived token of its own, signed with the same TROUPE_AUTH_SECRET the
 * peers check (every node of a cluster shares it). Renewed before it expires.
 */
import { SignJWT } from 'jose';

const LIFETIME_S = 120;

export function peerTokens(secret: string | null, nodeId: string): () => Promise<string | null> {
  if (secret === null) return () => Promise.resolve(null);
  const key = new TextEncoder().encode(secret);
  let token: Promise<string> | null = null;
  let renewAt = 0;
  return () => {
    const now = Date.now();
    if (token === null || now >= renewAt) {
      token = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(`dashboard:${nodeId}`).setIssuedAt().setExpirationTime(Math.floor(now / 1000) + LIFETIME_S).sign(key);
      renewAt = now + (LIFETIME_S / 2) * 1000;
    }
    return token;
  };
}
