/** The grid layer's public entry: the interface and the engine factory. */
export type { Grid, GridMap, GridCounter, GridLockHandle, GridHealth, RecordKey, RecordWrite, VersionedRecord, WriteOutcome } from './grid.js';
export { createGrid, GRID_ENGINES } from './engines.js';
export type { GridConfig, GridEngineName } from './engines.js';
