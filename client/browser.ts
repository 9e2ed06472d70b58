/**
 * Troupe's client SDK for web pages: the same API as `troupe/client`, bundled
 * with msgpackr into one ES module (dist/client/browser.bundle.js, exported as
 * `troupe/client/browser`) that a page imports with no bundler and no import
 * map. Built by scripts/build-browser-client.mjs; the `ws` transport is left
 * out (browsers have their own WebSocket).
 *
 * ```html
 * <script type="module">
 *   import { connect } from '/troupe/client/browser.bundle.js';
 *   const client = await connect({ url: 'ws://127.0.0.1:7070/v1/ws' });
 *   console.log(await client.call('Counter', 'c1', 'add', [5]));
 * </script>
 * ```
 *
 * A token goes as `?token=` (browsers cannot set headers on a WebSocket).
 */
export * from './index.js';
