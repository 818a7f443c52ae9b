import { describe, it, expect, vi, beforeEach } from 'vitest';

// The api step's decisions on the answers the API server can give; the HTTPS layer (request.ts) is
// replaced by canned answers here — the real API server's answers are covered by dev verify of the
// lessons whose attacks use them (over-broad-groups, secrets-hygiene, cloud-credentials).
const sent: { caller: any; method: string; path: string; body: unknown }[] = [];
let answer = { status: 200, statusText: 'OK', body: '{}' };
vi.mock('../../src/core/attacks/request.js', async (orig) => ({
  ...(await orig<typeof import('../../src/core/attacks/request.js')>()),
  apiRequest: async (_c: unknown, caller: unknown, method: string, path: string, body: unknown) => {
    sent.push({ caller, method, path, body });
    return answer;
  },
}));
const { api, identityGroups } = await import('../../src/core/attacks/steps/api.js');
import type { AttackContext } from '../../src/core/attacks/types.js';

const ctx = (vars: Record<string, string> = {}) => ({ vars: new Map(Object.entries(vars)) }) as unknown as AttackContext;
const reply = (status: number, body: unknown) => {
  answer = { status, statusText: status === 200 ? 'OK' : status === 201 ? 'Created' : 'Forbidden', body: JSON.stringify(body) };
};

beforeEach(() => {
  sent.length = 0;
});

describe('attack step api: what counts as getting the loot (succeeds.where)', () => {
  const p = api.schema.parse({
    as: 'token',
    path: '/api/v1/namespaces/payroll/configmaps/payroll-config',
    succeeds: { where: [{ path: 'data.DB_PASSWORD', exists: true, message: 'it holds no DB_PASSWORD' }] },
    show: [{ path: 'data.DB_PASSWORD', label: 'DB_PASSWORD', secret: true }],
  });
  it('works when the answer holds it, and shows it as a secret', async () => {
    reply(200, { data: { DB_HOST: 'db', DB_PASSWORD: 'Pr0d-Payr0ll' } });
    const r = await api.run(ctx({ token: 't' }), p);
    expect(r).toMatchObject({ succeeded: true, evidence: [{ label: 'DB_PASSWORD', value: 'Pr0d-Payr0ll', secret: true }] });
  });
  it('is stopped when the request is allowed but the answer does not hold it', async () => {
    reply(200, { data: { DB_HOST: 'db' } });
    const r = await api.run(ctx({ token: 't' }), p);
    expect(r).toEqual({ succeeded: false, message: 'GET /api/v1/namespaces/payroll/configmaps/payroll-config → 200 OK, but it holds no DB_PASSWORD' });
  });
  it('an access review that says no is a refusal; yes is success', async () => {
    const q = api.schema.parse({
      as: 'token',
      method: 'POST',
      dryRun: true,
      path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      body: {},
      succeeds: { where: [{ path: 'status.allowed', equals: true }] },
    });
    reply(201, { status: { allowed: false } });
    expect((await api.run(ctx({ token: 't' }), q)).succeeded).toBe(false);
    reply(201, { status: { allowed: true } });
    expect((await api.run(ctx({ token: 't' }), q)).succeeded).toBe(true);
    expect(sent[0].path).toBe('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews?dryRun=All');
  });
  it('a refused request stays a refusal, whatever the conditions', async () => {
    reply(403, { kind: 'Status', message: 'forbidden' });
    expect(await api.run(ctx({ token: 't' }), p)).toMatchObject({ succeeded: false, message: expect.stringMatching(/→ 403 Forbidden: forbidden$/) });
  });
});

describe('attack step api: who sends it', () => {
  it('a stolen token may ask to impersonate (kubectl --as): sent with the token, the API server decides', async () => {
    reply(200, { items: [] });
    const p = api.schema.parse({ as: 'token', impersonate: { user: 'anyone', groups: ['system:masters'] }, path: '/api/v1/secrets' });
    const r = await api.run(ctx({ token: 'tok-1' }), p);
    expect(sent[0].caller).toEqual({ token: 'tok-1', impersonate: { user: 'anyone', groups: ['system:masters'] } });
    expect(r.message).toBe('GET /api/v1/secrets as anyone, system:masters → 200 OK');
  });
  it('impersonate needs a stolen token (not anonymous, not the lab acting as a user)', () => {
    expect(api.schema.safeParse({ as: 'anonymous', impersonate: { user: 'x' }, path: '/' }).success).toBe(false);
    expect(api.schema.safeParse({ as: { user: 'u' }, impersonate: { user: 'x' }, path: '/' }).success).toBe(false);
  });
  it('identityOf: the ServiceAccount behind a stolen token, with the groups the API server gives it', async () => {
    reply(201, { status: { allowed: true } });
    const p = api.schema.parse({
      as: { identityOf: 'token' },
      method: 'POST',
      dryRun: true,
      path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      body: {},
    });
    const r = await api.run(ctx({ token: 'tok', 'token.subject': 'system:serviceaccount:gallery:uploader' }), p);
    expect(sent[0].caller).toEqual({
      user: 'system:serviceaccount:gallery:uploader',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:gallery', 'system:authenticated'],
    });
    expect(r.message).toBe('POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews (dry run) as system:serviceaccount:gallery:uploader → 201 Created');
    await expect(api.run(ctx({}), p)).rejects.toThrow(/identity of token "token", which no earlier step took/);
    expect(identityGroups('alice')).toEqual(['system:authenticated']);
  });
});
