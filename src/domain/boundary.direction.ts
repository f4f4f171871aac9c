import type { Direction } from './boundary.js';
import type { Role } from './charter.schema.js';

/** Which way a crossing goes: a product role deciding on engineering's side, or the other way round. */

const PRODUCT_ROLES: ReadonlySet<Role> = new Set(['product-manager', 'designer']);
const ENGINEERING_ROLES: ReadonlySet<Role> = new Set([
  'tech-lead',
  'engineering-manager',
  'engineer',
  'sre',
  'engineering-leadership',
]);

/** Which side a domain belongs to, by its id's prefix (the catalog's convention). */
const sideOfDomain = (domainId: string): 'product' | 'engineering' | 'other' => {
  const prefix = domainId.slice(0, domainId.indexOf('.'));
  if (prefix === 'eng' || prefix === 'engineering' || prefix === 'sre') return 'engineering';
  if (prefix === 'product' || prefix === 'trio' || prefix === 'design') return 'product';
  return 'other';
};

export const directionOf = (role: Role, domainId: string): Direction => {
  const side = sideOfDomain(domainId);
  if (PRODUCT_ROLES.has(role) && side === 'engineering') return 'product_to_engineering';
  if (ENGINEERING_ROLES.has(role) && side === 'product') return 'engineering_to_product';
  return 'other';
};
