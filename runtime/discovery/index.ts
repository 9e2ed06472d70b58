/** The discovery layer's public entry: the interface, the engine factory, and the peer list format. */
export type { Discovery, Logger, Member } from './discovery.js';
export { createDiscovery, DISCOVERY_ENGINES } from './engines.js';
export type { DiscoveryConfig, DiscoveryEngineName } from './engines.js';
export type { StaticDiscoveryOptions, StaticProbeOptions } from './static/static-discovery.js';
export type { ConsulDiscoveryOptions } from './consul/consul-discovery.js';
export { parsePeers, formatPeers } from './static/peers.js';
