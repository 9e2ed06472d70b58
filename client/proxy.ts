/**
 * Proxies that turn `ref.add(5)` into a call. Each proxy caches the function
 * it makes per method name, so a proxy kept and reused allocates nothing per
 * call beyond the arguments array.
 */

export type Invoke = (method: string, args: unknown[]) => unknown;

/** Any method name, any arguments: what a proxy made from a type name looks like. */
export type UntypedRef = { readonly [method: string]: (...args: unknown[]) => Promise<unknown> };

export function makeProxy<R>(invoke: Invoke): R {
  const methods = new Map<string, (...args: unknown[]) => unknown>();
  return new Proxy(Object.create(null) as object, {
    get(_target, prop) {
      // 'then' must stay undefined, or `await ref` would treat the proxy as a promise and call the actor.
      if (typeof prop !== 'string' || prop === 'then') return undefined;
      let fn = methods.get(prop);
      if (fn === undefined) {
        fn = (...args: unknown[]) => invoke(prop, args);
        methods.set(prop, fn);
      }
      return fn;
    },
  }) as R;
}
