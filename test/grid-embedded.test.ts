import { EmbeddedGrid } from '../grid/embedded/embedded-grid.js';
import { gridContract } from './grid-contract.js';

gridContract(
  'embedded',
  async () => new EmbeddedGrid(),
  async () => {},
  async (grid, key) => (grid as EmbeddedGrid).loseRecord(key),
);
