/** Wire protocol v1 and the error codes: shared by the gateway, the SDK and other clients. */
export * from './errors.js';
export * from './wire.js';
export * from './limits.js';
export * from './traceparent.js';
