/**
 * The serializers the Moleculer rows run with, by Moleculer's own names: JSON
 * (its default) and CBOR (cbor-x, the fastest of its binary serializers in
 * Moleculer's own benchmarks). Apart from moleculer-config.ts so that checking
 * a driver spec does not load Moleculer into every load process.
 */
export type MoleculerSerializer = 'JSON' | 'CBOR';

export function isMoleculerSerializer(v: unknown): v is MoleculerSerializer {
  return v === 'JSON' || v === 'CBOR';
}
