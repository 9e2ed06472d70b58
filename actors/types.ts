import type { Actor } from './actor.js';

/** A concrete actor class: constructible with no arguments, with a static `expose` list. */
export interface ActorClass<A extends Actor<any> = Actor<any>> {
  new (): A;
  readonly expose: readonly string[];
  readonly type?: string;
  readonly name: string;
  readonly prototype: A;
}

/** The method names a class exposes, as a type. */
export type ExposedKeys<C> = C extends { readonly expose: readonly (infer K)[] }
  ? C extends new () => infer I
    ? Extract<K, keyof I>
    : never
  : never;

type Method<I, K extends keyof I> = I[K] extends (...args: infer A) => infer R ? { args: A; result: Awaited<R> } : never;

/** Typed proxy for calls: each exposed method returns a promise of its result. */
export type Ref<C> = C extends new () => infer I
  ? { readonly [K in ExposedKeys<C> & keyof I]: (...args: Method<I, K>['args']) => Promise<Method<I, K>['result']> }
  : never;

/** Typed proxy for one-way messages. */
export type TellRef<C> = C extends new () => infer I
  ? { readonly [K in ExposedKeys<C> & keyof I]: (...args: Method<I, K>['args']) => void }
  : never;
