/**
 * Client drivers: how the load process reaches a system under test. Each
 * driver is a sibling file exporting `open(spec)`; it is imported only in the
 * load process that uses it, so Moleculer or the SDK load nowhere else.
 *
 * The workload is fixed for every driver: `call(key)` adds 1 to the counter
 * named `key` and resolves with its new total (Troupe's `Counter.add(1)`).
 */

import { isMoleculerSerializer, type MoleculerSerializer } from '../lib/moleculer-serializer.js';

/** Our own minimal ws + msgpack batching client for wire protocol v1. */
export interface WsBatchSpec {
  readonly name: 'ws-batch';
  readonly url: string;
}

/**
 * The Troupe SDK from dist/client. Workload `counter` (the default):
 * client.call('Counter', key, 'add', [1]); `relay`: client.call('Relay', key,
 * 'forward', [key, 1]), which answers true once the relay's turn (and its
 * tell) committed; the tell then adds 1 to Counter `key`.
 */
export interface TroupeSdkSpec {
  readonly name: 'troupe-sdk';
  readonly url: string;
  readonly workload?: 'counter' | 'relay';
}

/** A Moleculer broker in the load process, calling `counter.add` on a remote broker over TCP. */
export interface MoleculerSpec {
  readonly name: 'moleculer';
  /** The broker hosting the counter service. */
  readonly server: MoleculerPeer;
  /**
   * This client broker. Moleculer's TCP transporter is peer-to-peer: the
   * client listens too, and both sides list each other as static peers.
   */
  readonly client: MoleculerPeer;
  /** Both brokers must use the same one. */
  readonly serializer: MoleculerSerializer;
}

export interface MoleculerPeer {
  readonly nodeID: string;
  readonly port: number;
}

/** hazelcast-client in the load process, Counter.add(1) straight on an IMap (lib/hazelcast-counter.ts). */
export interface HazelcastSpec {
  readonly name: 'hazelcast';
  readonly clusterName: string;
  readonly members: readonly string[];
  readonly map: string;
  /** cas: version-checked read-modify-write, one replaceIfSame per call; set: blind set, the ceiling. */
  readonly mode: 'cas' | 'set';
}

export type DriverSpec = WsBatchSpec | TroupeSdkSpec | MoleculerSpec | HazelcastSpec;
export type DriverName = DriverSpec['name'];

export interface Caller {
  call(key: string): Promise<unknown>;
  /**
   * Counts over this load process's run, warm-up included, reported with the
   * row (conflicts that forced a retry, say). Undefined when there are none.
   */
  stats?(): Promise<Readonly<Record<string, number>> | undefined>;
  close(): Promise<void>;
}

export async function openDriver(spec: DriverSpec): Promise<Caller> {
  switch (spec.name) {
    case 'ws-batch': return (await import('./ws-batch.js')).open(spec);
    case 'troupe-sdk': return (await import('./troupe-sdk.js')).open(spec);
    case 'moleculer': return (await import('./moleculer.js')).open(spec);
    case 'hazelcast': return (await import('./hazelcast.js')).open(spec);
  }
}

/** Checks a spec that arrived on the command line; the load process trusts it afterwards. */
export function parseDriverSpec(value: unknown): DriverSpec {
  if (value === null || typeof value !== 'object') throw new TypeError('driver spec must be an object');
  const v = value as Record<string, unknown>;
  if (v.name === 'troupe-sdk' && typeof v.url === 'string' && (v.workload === undefined || v.workload === 'counter' || v.workload === 'relay')) {
    return v.workload === undefined ? { name: v.name, url: v.url } : { name: v.name, url: v.url, workload: v.workload };
  }
  if (v.name === 'ws-batch' && typeof v.url === 'string') {
    return { name: v.name, url: v.url };
  }
  if (v.name === 'moleculer') {
    const server = peerOf(v.server);
    const client = peerOf(v.client);
    if (server && client && isMoleculerSerializer(v.serializer)) return { name: 'moleculer', server, client, serializer: v.serializer };
  }
  if (
    v.name === 'hazelcast' &&
    typeof v.clusterName === 'string' &&
    Array.isArray(v.members) && v.members.length > 0 && v.members.every((m) => typeof m === 'string') &&
    typeof v.map === 'string' &&
    (v.mode === 'cas' || v.mode === 'set')
  ) {
    return { name: 'hazelcast', clusterName: v.clusterName, members: v.members as string[], map: v.map, mode: v.mode };
  }
  throw new TypeError(`unknown or incomplete driver spec: ${JSON.stringify(value).slice(0, 200)}`);
}

function peerOf(value: unknown): MoleculerPeer | null {
  if (value === null || typeof value !== 'object') return null;
  const p = value as Record<string, unknown>;
  return typeof p.nodeID === 'string' && typeof p.port === 'number' ? { nodeID: p.nodeID, port: p.port } : null;
}
