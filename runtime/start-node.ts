/**
 * The embedding API: a node started in-process, with the same settings as
 * `troupe start` (which is built on this), checked the same way.
 *
 * ```ts
 * import { startNode } from 'troupe/runtime';
 * const node = await startNode({ port: 0, actors: ['./dist/counter.js'] });
 * console.log(node.address.ws);      // ws://127.0.0.1:40123/v1/ws
 * await node.drain();                // hand work to peers, finish the turns in progress
 * await node.stop();
 * ```
 */
import type { Grid } from '../grid/index.js';
import { checkSettings, resolveConfig, type NodeConfig, type NodeSettings } from './config.js';
import type { Readiness } from './gateway/http-routes.js';
import { createLogger, type Logger } from './log.js';
import { TroupeNode } from './node.js';

export interface StartNodeOptions {
  /**
   * Environment variables to read settings from (`TROUPE_PORT`, the secrets,
   * ...), below the settings given in code. None by default: an embedded node
   * reads only what its program passes, e.g. `{ env: process.env }`.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Replaces the JSON-lines logger on stdout (at `logLevel`). */
  readonly logger?: Logger;
  /** A grid to share with other nodes of this process (tests), instead of one built from the settings; the caller closes it. */
  readonly grid?: Grid;
}

/** Where a started node listens. */
export interface NodeAddress {
  readonly host: string;
  readonly port: number;
  /** The WebSocket endpoint for clients: `ws://host:port/v1/ws`. */
  readonly ws: string;
  /** The HTTP base URL: `http://host:port`. */
  readonly http: string;
}

/** A running node. */
export interface NodeHandle {
  readonly address: NodeAddress;
  /** The configuration the node runs with (settings, environment and defaults resolved). */
  readonly config: NodeConfig;
  /** Whether the node takes calls now (grid reachable, not draining): what `GET /health/ready` answers. */
  readonly ready: boolean;
  /** `ready` with its details, as `GET /health/ready` shows them. */
  readiness(): Readiness;
  /** Stops taking new work, hands shards to peers, lets turns in progress commit (within `timeoutMs`, default 5 s). */
  drain(timeoutMs?: number): Promise<void>;
  /** Drains if running, then closes the gateway, pools and grid connection. Safe to call twice. */
  stop(drainMs?: number): Promise<void>;
  /** The node's structured logger (for a program's own lines beside the node's). */
  readonly log: Logger;
}

/**
 * Starts a node in this process; resolves once it takes calls (its grid
 * reachable, its gateway listening, its cluster joined), rejects with a
 * ConfigError for a bad setting (the same message `troupe start` prints)
 * or with the reason a part could not start.
 */
export async function startNode(settings: NodeSettings, options: StartNodeOptions = {}): Promise<NodeHandle> {
  const config = resolveConfig(checkSettings(settings), options.env ?? {});
  const logger = options.logger ?? createLogger(config.nodeId, config.logLevel);
  const node = await TroupeNode.start(config, { logger, ...(options.grid === undefined ? {} : { grid: options.grid }) });
  const port = node.port;
  const authority = config.host.includes(':') ? `[${config.host}]:${port}` : `${config.host}:${port}`;
  const address: NodeAddress = Object.freeze({ host: config.host, port, ws: `ws://${authority}/v1/ws`, http: `http://${authority}` });
  return Object.freeze({
    address,
    config,
    get ready() {
      return node.readiness().ready;
    },
    readiness: () => node.readiness(),
    drain: (timeoutMs?: number) => node.drain(timeoutMs),
    stop: (drainMs?: number) => node.stop(drainMs),
    log: node.log,
  });
}
