import type { IMap } from 'hazelcast-client';

/** Resolves a named IMap of byte[] values; the grid caches the proxies so the hot path skips a promise hop. */
export type MapSource = (name: string) => IMap<string, Buffer> | Promise<IMap<string, Buffer>>;
