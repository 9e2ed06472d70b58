/** Options of the consul engine, and their validation. */
import type { Logger } from '../discovery.js';
import { intOption, objectOption, stringOption } from '../options.js';

export interface ConsulDiscoveryOptions {
  /** The local agent's HTTP API. Default `http://127.0.0.1:8500`. */
  readonly agentUrl?: string;
  /** ACL token, if the agent needs one. Never logged. */
  readonly token?: string;
  /** Service name all nodes of one cluster register under. Default `troupe`. */
  readonly serviceName?: string;
  /** TTL of the liveness check. Default 2000 ms. */
  readonly ttlMs?: number;
  /** How often this process passes the TTL check. Default 500 ms; at most a third of `ttlMs`. */
  readonly passIntervalMs?: number;
  /** The agent's HTTP check of the gateway; `false` leaves only the TTL check. */
  readonly httpCheck?: false | {
    /** Default `/health/ready`. */
    readonly path?: string;
    /** Default 1000 ms. */
    readonly intervalMs?: number;
    /** Default 500 ms. */
    readonly timeoutMs?: number;
  };
  /** Consul reaps critical registrations after this; values under 1 minute are raised to it by Consul. Default 60000 ms. */
  readonly deregisterCriticalAfterMs?: number;
  /** Longest a blocking query waits for a change. Short on purpose (see above). Default 2000 ms. */
  readonly watchWaitMs?: number;
  /** Deadline of every non-blocking request to the agent. Default 2000 ms. */
  readonly requestTimeoutMs?: number;
  /** Upper bound of the retry backoff after a failed request (it starts at 100 ms). Default 2000 ms. */
  readonly retryMaxMs?: number;
  /** How long `start()` waits to see this node passing. Default 10000 ms. */
  readonly readyTimeoutMs?: number;
  /** The runtime's structured logger; default: warnings and errors on stderr. */
  readonly logger?: Logger;
}

/** Validates once, where the options enter; the result is frozen. */
export function checkConsulOptions(options: ConsulDiscoveryOptions | undefined) {
  const o = objectOption(options, 'consul discovery options');
  const agentUrl = stringOption(o.agentUrl, 'agentUrl', 'http://127.0.0.1:8500');
  let url: URL;
  try {
    url = new URL(agentUrl);
  } catch {
    throw new TypeError(`agentUrl must be a URL like http://127.0.0.1:8500 (got ${JSON.stringify(agentUrl)})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`agentUrl must use http or https (got ${url.protocol})`);
  const ttlMs = intOption(o.ttlMs, 'ttlMs', 2000, 1000, 3_600_000);
  const h = o.httpCheck === false ? false : objectOption(o.httpCheck, 'httpCheck');
  const httpCheck = h === false ? false : Object.freeze({
    path: stringOption(h.path, 'httpCheck.path', '/health/ready', /^\/\S*$/),
    intervalMs: intOption(h.intervalMs, 'httpCheck.intervalMs', 1000, 100, 3_600_000),
    timeoutMs: intOption(h.timeoutMs, 'httpCheck.timeoutMs', 500, 10, 3_600_000),
  });
  if (o.token !== undefined && typeof o.token !== 'string') throw new TypeError('token must be a string');
  return Object.freeze({
    url,
    token: o.token,
    serviceName: stringOption(o.serviceName, 'serviceName', 'troupe', /^[A-Za-z0-9-]{1,63}$/),
    ttlMs,
    passIntervalMs: intOption(o.passIntervalMs, 'passIntervalMs', 500, 50, Math.floor(ttlMs / 3)),
    httpCheck,
    deregisterCriticalAfterMs: intOption(o.deregisterCriticalAfterMs, 'deregisterCriticalAfterMs', 60_000, 60_000),
    watchWaitMs: intOption(o.watchWaitMs, 'watchWaitMs', 2000, 100, 600_000),
    requestTimeoutMs: intOption(o.requestTimeoutMs, 'requestTimeoutMs', 2000, 50, 600_000),
    retryMaxMs: intOption(o.retryMaxMs, 'retryMaxMs', 2000, 100, 600_000),
    readyTimeoutMs: intOption(o.readyTimeoutMs, 'readyTimeoutMs', 10_000, 1, 3_600_000),
    logger: o.logger,
  });
}

export type ConsulSettings = ReturnType<typeof checkConsulOptions>;
