/**
 * Troupe's client SDK, for Node and browsers.
 *
 * ```ts
 * import { connect } from 'troupe/client';
 * const client = await connect({ url: 'ws://127.0.0.1:7070/v1/ws', token: 'secret', timeout: 5000 });
 * const total = await client.actor(Counter, 'c1').add(5); // Promise<number>
 * const sub = await client.subscribe('room:lobby', (data) => console.log(data));
 * await sub.unsubscribe();
 * await client.close();
 * ```
 *
 * Failures are TroupeErrors; match on `err.code` (E_TIMEOUT, E_UNAVAILABLE, ...).
 */
export { connect, TroupeClient, type ArgsOf, type ResultOf } from './client.js';
export type { BackoffOptions, CallOptions, ClientOptions, ClientState, TokenSource } from './options.js';
export type { EventHandler, EventInfo, Subscription } from './subscriptions.js';
export type { UntypedRef } from './proxy.js';
export { TroupeError, RETRYABLE_CODES, ERROR_CODES, type ErrorCode } from '../protocol/index.js';
export type { Ref, TellRef, ActorClass } from '../actors/index.js';
