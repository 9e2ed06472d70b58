import type { Grid } from './grid.js';

/** Grid settings as validated by the runtime's configuration. Engine-specific fields are ignored by the others. */
export interface GridConfig {
  readonly engine: GridEngineName;
  readonly hazelcast?: {
    readonly clusterName: string;
    readonly members: readonly string[];
    readonly connectTimeoutMs: number;
    readonly invocationTimeoutMs: number;
  };
}

export const GRID_ENGINES = ['embedded', 'hazelcast'] as const;
export type GridEngineName = (typeof GRID_ENGINES)[number];

/**
 * Builds the configured engine. Engines load lazily so the embedded default
 * never pulls in hazelcast-client.
 */
export async function createGrid(config: GridConfig): Promise<Grid> {
  switch (config.engine) {
    case 'embedded': {
      const { EmbeddedGrid } = await import('./embedded/embedded-grid.js');
      return new EmbeddedGrid();
    }
    case 'hazelcast': {
      // Path kept in a variable so the engine is only resolved when chosen.
      const modulePath = './hazelcast/hazelcast-grid.js';
      const { HazelcastGrid } = (await import(modulePath)) as { HazelcastGrid: new (c: NonNullable<GridConfig['hazelcast']>) => Grid };
      if (config.hazelcast === undefined) throw new TypeError('grid engine hazelcast needs hazelcast settings');
      return new HazelcastGrid(config.hazelcast);
    }
  }
}
