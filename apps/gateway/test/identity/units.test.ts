import { gatewayEnv, loadEnv } from '@ward/config';
import { describe, expect, it } from 'vitest';
import { mapRole, parseRoleMap } from '../../src/identity/oidc.js';
import { hashPassword, needsRehash, passwordProblem, verifyPassword } from '../../src/identity/passwords.js';

describe('passwords', () => {
  it('hashes with scrypt and a per-user salt, and verifies in well under 150 ms', async () => {
    const a = await hashPassword('correct horse battery staple');
    const b = await hashPassword('correct horse battery staple');
    expect(a).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(a).not.toBe(b);
    const t0 = performance.now();
    expect(await verifyPassword('correct horse battery staple', a)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(150);
    expect(await verifyPassword('correct horse battery stapl', a)).toBe(false);
    expect(await verifyPassword('anything', 'not-a-hash')).toBe(false);
    expect(needsRehash(a)).toBe(false);
    expect(
      needsRehash(
        '$scrypt$ln=14,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
      ),
    ).toBe(true);
  });

  it('requires at least 12 characters', () => {
    expect(passwordProblem('short')).toMatch(/at least 12/);
    expect(passwordProblem(' '.repeat(12))).toMatch(/whitespace/);
    expect(passwordProblem('twelve chars')).toBeUndefined();
  });
});

describe('OIDC role mapping', () => {
  it('reads OIDC_ROLE_MAP and maps claim values, the most privileged role winning', () => {
    const map = parseRoleMap(['ward-admin=admin', 'clinician=provider', 'https://x/groups=a=staff']);
    expect(map).toEqual({ 'ward-admin': 'admin', clinician: 'provider', 'https://x/groups=a': 'staff' });
    expect(mapRole(['clinician', 'ward-admin'], map)).toBe('admin');
    expect(mapRole('clinician', map)).toBe('provider');
    expect(mapRole(['other'], map)).toBeUndefined();
    expect(mapRole(['auditor', 'nonsense'], {})).toBe('auditor');
    expect(() => parseRoleMap(['clinician=doctor'])).toThrow(/OIDC_ROLE_MAP entry "clinician=doctor"/);
  });
});

describe('identity config', () => {
  it('reads AUTH_TOKEN_TTL as a duration with a 15 minute default', () => {
    expect(loadEnv(gatewayEnv, {}).AUTH_TOKEN_TTL).toBe(900);
    expect(loadEnv(gatewayEnv, { AUTH_TOKEN_TTL: '8h' }).AUTH_TOKEN_TTL).toBe(28_800);
    expect(() => loadEnv(gatewayEnv, { AUTH_TOKEN_TTL: '2s' })).toThrow(/AUTH_TOKEN_TTL must be between 60/);
    expect(() => loadEnv(gatewayEnv, { AUTH_TOKEN_TTL: 'soon' })).toThrow(
      /AUTH_TOKEN_TTL must be a duration/,
    );
  });
});
