/**
 * The cluster secret (TROUPE_CLUSTER_SECRET) of a local cluster: random,
 * kept in the run folder with mode 0600, handed to nodes through their
 * environment (flags would show in `ps`), never printed or logged.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SECRET_FILE = 'secret';

export function createSecret(dir: string): string {
  const file = join(dir, SECRET_FILE);
  // A leftover from an earlier run is replaced: every `up` gets a fresh secret.
  rmSync(file, { force: true });
  writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  // `mode` is filtered by the umask; make sure nobody else can read it.
  chmodSync(file, 0o600);
  return file;
}

export function readSecret(file: string): string {
  let secret: string;
  try {
    secret = readFileSync(file, 'utf8').trim();
  } catch {
    throw new Error(`the cluster secret ${file} is missing: was the run folder cleaned? 'troupe cluster down' and 'up' again`);
  }
  if (secret.length < 16) throw new Error(`the cluster secret in ${file} is shorter than 16 characters`);
  return secret;
}

export function removeSecret(file: string): void {
  rmSync(file, { force: true });
}
