/** Troupe's runtime, for programs that run a node in-process (`import { startNode } from 'troupe/runtime'`). */
export { startNode } from './start-node.js';
export type { NodeAddress, NodeHandle, StartNodeOptions } from './start-node.js';
export { ConfigError, SETTINGS, SECRETS } from './config.js';
// What startNode rejects with when the machine cannot run a node as asked (match on `code`).
export { NativeUwsError } from './gateway/native-uws.js';
export { TypeScriptLoaderError } from './loader/loader-errors.js';
export type { NodeConfig, NodeSettings } from './config.js';
export type { Readiness } from './gateway/http-routes.js';
export type { Logger } from './log.js';
