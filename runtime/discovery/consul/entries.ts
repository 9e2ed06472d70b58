/**
 * The part of Consul's `/v1/health/service/:name` answer we read, and its
 * translation into a `Member`. Input from the network: checked, not trusted.
 */
import type { Member } from '../discovery.js';
import { validateMember } from '../member-list.js';

export interface HealthEntry {
  readonly Node?: { readonly Address?: unknown };
  readonly Service?: {
    readonly ID?: unknown;
    readonly Address?: unknown;
    readonly Port?: unknown;
    readonly Meta?: unknown;
  };
}

/** The member an entry describes, or why it cannot be one. */
export function toMember(entry: HealthEntry): Member | string {
  const service = entry?.Service;
  if (typeof service !== 'object' || service === null) return 'entry has no Service';
  const meta: Record<string, string> = {};
  if (typeof service.Meta === 'object' && service.Meta !== null) {
    for (const [key, value] of Object.entries(service.Meta)) if (typeof value === 'string') meta[key] = value;
  }
  const { linkPort, zone, ...rest } = meta;
  // An empty service address means "the node's address" in Consul.
  const address = typeof service.Address === 'string' && service.Address !== '' ? service.Address : entry.Node?.Address;
  const candidate: Member = {
    id: String(service.ID),
    address: typeof address === 'string' ? address : '',
    port: typeof service.Port === 'number' ? service.Port : Number.NaN,
    linkPort: linkPort !== undefined && /^\d{1,5}$/.test(linkPort) ? Number(linkPort) : Number.NaN,
    ...(zone === undefined ? {} : { zone }),
    ...(Object.keys(rest).length === 0 ? {} : { meta: rest }),
  };
  try {
    return validateMember(candidate, `service ${candidate.id}`);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
