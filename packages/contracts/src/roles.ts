/** Ward's roles. Every route declares which of them it allows. */
export const ROLES = ['admin', 'provider', 'staff', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/** True when `value` names one of Ward's roles. */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Who a request or job acts for. `sub` is an account identifier, never a patient's. */
export interface Actor {
  sub: string;
  role: Role;
  /** How the actor authenticated: a Ward-issued JWT, an API key or an external identity provider. */
  method: 'jwt' | 'api-key' | 'oidc';
}
