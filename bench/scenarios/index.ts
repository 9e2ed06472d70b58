/**
 * Every scenario, in table order. To add one, write a sibling module that
 * exports a `Scenario` and list it here; see bench/README.md.
 */
import type { Scenario } from '../scenario.js';
import { moleculerTcp } from './moleculer.js';
import { rawUws } from './raw-uws.js';
import { troupe } from './troupe.js';

export const scenarios: readonly Scenario[] = [troupe, moleculerTcp, rawUws];
