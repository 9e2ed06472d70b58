import type { Discovery, Logger } from './discovery.js';
import type { StaticDiscoveryOptions } from './static/static-discovery.js';
import type { ConsulDiscoveryOptions } from './consul/consul-discovery.js';

export const DISCOVERY_ENGINES = ['static', 'consul'] as const;
export type DiscoveryEngineName = (typeof DISCOVERY_ENGINES)[number];

/** Discovery settings as validated by the runtime's configuration. Each engine reads only its own section. */
export interface DiscoveryConfig {
  readonly engine: DiscoveryEngineName;
  readonly static?: StaticDiscoveryOptions;
  readonly consul?: ConsulDiscoveryOptions;
  /** The runtime's structured logger, used unless the engine's section names another. Default: warnings and errors on stderr. */
  readonly logger?: Logger;
}

/**
 * Builds the configured engine. Engines load lazily, so a node using the
 * static list never loads the consul client. Options are checked here (in
 * the engine's constructor): a bad value throws a TypeError naming it.
 */
export async function createDiscovery(config: DiscoveryConfig): Promise<Discovery> {
  if (typeof config !== 'object' || config === null) throw new TypeError('discovery config must be an object');
  switch (config.engine) {
    case 'static': {
      if (config.static === undefined) throw new TypeError('discovery engine static needs a static section with peers');
      const { StaticDiscovery } = await import('./static/static-discovery.js');
      return new StaticDiscovery({ ...(config.logger === undefined ? {} : { logger: config.logger }), ...config.static });
    }
    case 'consul': {
      const { ConsulDiscovery } = await import('./consul/consul-discovery.js');
      return new ConsulDiscovery({ ...(config.logger === undefined ? {} : { logger: config.logger }), ...config.consul });
    }
    default:
      throw new TypeError(`discovery engine must be one of ${DISCOVERY_ENGINES.join(', ')} (got ${JSON.stringify((config as { engine?: unknown }).engine)})`);
  }
}
