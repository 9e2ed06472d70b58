import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { registerTypeScriptIfNeeded, strippingHint, type TypeScriptLoader } from './loader/typescript.js';
import { actorTypeName, exposedMethods, isActorClass, stateVersion, type ActorClass } from '../actors/index.js';

export interface ActorType {
  readonly name: string;
  readonly cls: ActorClass;
  readonly methods: ReadonlySet<string>;
  /** The state version its records carry (static version, 1 when absent). */
  readonly version: number;
}

/**
 * The actor types a node serves, loaded from module paths. The main thread
 * uses it to refuse unknown actors and methods at the edge; each worker loads
 * its own copy to run turns.
 */
export class ActorRegistry {
  private readonly types = new Map<string, ActorType>();
  /** How TypeScript modules were loaded (undefined: none were TypeScript). */
  typescript: TypeScriptLoader | undefined;

  static async load(modules: readonly string[]): Promise<ActorRegistry> {
    const registry = new ActorRegistry();
    registry.typescript = await registerTypeScriptIfNeeded(modules);
    for (const path of modules) {
      const url = path.startsWith('file:') ? path : pathToFileURL(isAbsolute(path) ? path : resolve(path)).href;
      let mod: Record<string, unknown>;
      try {
        mod = (await import(url)) as Record<string, unknown>;
      } catch (err) {
        throw new Error(`cannot load actor module ${path}: ${(err as Error).message}${strippingHint(err)}`, { cause: err });
      }
      let found = 0;
      for (const value of Object.values(mod)) {
        if (isActorClass(value) && value.expose.length > 0) {
          registry.add(value);
          found++;
        }
      }
      if (found === 0) throw new Error(`actor module ${path} exports no actor class (a class extending Actor with a static expose list)`);
    }
    return registry;
  }

  private add(cls: ActorClass): void {
    const name = actorTypeName(cls);
    const existing = this.types.get(name);
    if (existing !== undefined) {
      if (existing.cls === cls) return; // the same class re-exported by two modules
      throw new Error(`two actor classes are named '${name}': set a distinct static type on one of them`);
    }
    this.types.set(name, { name, cls, methods: exposedMethods(cls), version: stateVersion(cls) });
  }

  get(name: string): ActorType | undefined {
    return this.types.get(name);
  }

  names(): string[] {
    return [...this.types.keys()];
  }
}
