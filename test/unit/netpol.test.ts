import { describe, it, expect } from 'vitest';
import {
  PortSet,
  IpSet,
  matches,
  policyTypes,
  podToPod,
  podSide,
  addressSide,
  addressPorts,
  addressExcess,
  rulePorts,
  peerSelectsPod,
  type NetworkPolicy,
  type PodRef,
} from '../../src/core/checks/netpolModel.js';

const pod = (namespace: string, labels: Record<string, string>, ports: [string, number, string?][] = [], nsLabels: Record<string, string> = {}): PodRef => ({
  namespace,
  labels,
  name: `${namespace}/${Object.values(labels).join('-') || 'pod'}`,
  nsLabels: { 'kubernetes.io/metadata.name': namespace, ...nsLabels },
  namedPorts: new Map(ports.map(([n, p, proto]) => [n, [{ port: p, protocol: (proto ?? 'TCP') as 'TCP' }]])),
});
const np = (namespace: string, name: string, spec: NetworkPolicy['spec']): NetworkPolicy => ({ metadata: { name, namespace }, spec });

describe('port sets', () => {
  it('parses, unions, subtracts and prints ranges per protocol', () => {
    const a = PortSet.parse(['8080', '53/UDP', '53/TCP', '1000-2000/SCTP']);
    expect(a.has('TCP', 8080)).toBe(true);
    expect(a.has('UDP', 8080)).toBe(false);
    expect(a.has('SCTP', 1500)).toBe(true);
    expect(a.minus(PortSet.parse(['8080'])).toString()).toBe('53/TCP, 53/UDP, 1000-2000/SCTP');
    expect(
      PortSet.all()
        .minus(PortSet.parse(['any/TCP', 'any/UDP']))
        .toString(),
    ).toBe('any SCTP port');
    expect(PortSet.parse(['any']).toString()).toBe('every port');
    expect(
      PortSet.parse(['1-100'])
        .minus(PortSet.parse(['50']))
        .toString(),
    ).toBe('1-49/TCP, 51-100/TCP');
    expect(() => PortSet.parse(['http'])).toThrow(/not a port/);
  });
});

describe('address sets', () => {
  it('handles CIDRs, except blocks and IPv6', () => {
    const all4 = IpSet.cidr('0.0.0.0/0');
    const noMeta = all4.minus(IpSet.cidr('169.254.169.254/32'));
    expect(noMeta.covers(IpSet.cidr('8.8.8.8/32'))).toBe(true);
    expect(noMeta.covers(IpSet.cidr('169.254.0.0/16'))).toBe(false);
    expect(IpSet.cidr('10.1.2.3/8').toString()).toBe('10.0.0.0/8');
    expect(IpSet.cidr('::/0').covers(IpSet.cidr('fd00::1/128'))).toBe(true);
    expect(IpSet.cidr('::/0').covers(IpSet.cidr('10.0.0.1/32'))).toBe(false);
    expect(IpSet.tryCidr('300.1.1.1/32')).toBeUndefined();
    expect(all4.example(['169.254.169.254/32'])).toBe('169.254.169.254');
  });
});

describe('NetworkPolicy semantics', () => {
  it('evaluates label selectors as the API does (matchLabels AND matchExpressions)', () => {
    const l = { app: 'api', tier: 'back' };
    expect(matches(undefined, l)).toBe(true);
    expect(matches({}, {})).toBe(true);
    expect(matches({ matchLabels: { app: 'api' } }, l)).toBe(true);
    expect(matches({ matchLabels: { app: 'api', tier: 'front' } }, l)).toBe(false);
    expect(matches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['back', 'db'] }] }, l)).toBe(true);
    expect(matches({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, l)).toBe(false);
    expect(matches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['back'] }] }, l)).toBe(false);
    expect(matches({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, l)).toBe(true); // absent key: not in
    expect(matches({ matchExpressions: [{ key: 'app', operator: 'Exists' }] }, l)).toBe(true);
    expect(matches({ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, l)).toBe(false);
    expect(matches({ matchLabels: { app: 'api' }, matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, l)).toBe(false);
    expect(matches({ matchExpressions: [{ key: 'app', operator: 'Gt', values: ['1'] }] }, l)).toBe(false);
  });

  it('lets a pod anyone could create name any port anything', () => {
    const anyPod: PodRef = { namespace: 'x', nsLabels: { 'kubernetes.io/metadata.name': 'x' }, labels: {}, namedPorts: 'any', name: 'a new pod' };
    expect(rulePorts([{ port: 'metrics' }], anyPod).toString()).toBe('any TCP port');
    expect(
      rulePorts(
        [
          { port: 'metrics', protocol: 'UDP' },
          { port: 53, protocol: 'UDP' },
        ],
        anyPod,
      ).toString(),
    ).toBe('any UDP port');
  });

  it('defaults policyTypes as the API server does', () => {
    expect(policyTypes(np('a', 'x', { podSelector: {} }))).toEqual(['Ingress']);
    expect(policyTypes(np('a', 'x', { podSelector: {}, egress: [{}] }))).toEqual(['Ingress', 'Egress']);
    expect(policyTypes(np('a', 'x', { podSelector: {}, egress: [] }))).toEqual(['Ingress']);
    expect(policyTypes(np('a', 'x', { podSelector: {}, policyTypes: ['Egress'] }))).toEqual(['Egress']);
  });

  it('ANDs podSelector and namespaceSelector in one peer, ORs separate peers', () => {
    const other = pod('b', { app: 'web' }, [], { team: 'x' });
    const and = { namespaceSelector: { matchLabels: { team: 'x' } }, podSelector: { matchLabels: { app: 'api' } } };
    expect(peerSelectsPod(and, 'a', other)).toBe(false);
    expect(peerSelectsPod({ namespaceSelector: { matchLabels: { team: 'x' } } }, 'a', other)).toBe(true);
    expect(peerSelectsPod({ podSelector: { matchLabels: { app: 'web' } } }, 'a', other)).toBe(false); // podSelector alone: the policy's namespace only
    expect(peerSelectsPod({ namespaceSelector: {} }, 'a', other)).toBe(true);
    expect(peerSelectsPod({ ipBlock: { cidr: '0.0.0.0/0' } }, 'a', other)).toBe(false);
  });

  it('resolves named ports on the receiving pod, endPort ranges and protocols', () => {
    const api = pod('a', { app: 'api' }, [
      ['http', 8080],
      ['debug', 9090],
      ['dns', 53, 'UDP'],
    ]);
    expect(rulePorts([{ port: 'http' }], api).toString()).toBe('8080/TCP');
    expect(rulePorts([{ port: 'dns', protocol: 'UDP' }], api).toString()).toBe('53/UDP');
    expect(rulePorts([{ port: 'dns' }], api).isEmpty()).toBe(true); // the name is UDP, the rule TCP
    expect(rulePorts([{ port: 'http' }], undefined).isEmpty()).toBe(true); // an address has no named ports
    expect(rulePorts([{ port: 30000, endPort: 30010, protocol: 'SCTP' }], api).toString()).toBe('30000-30010/SCTP');
    expect(rulePorts([{ protocol: 'UDP' }], api).toString()).toBe('any UDP port');
    expect(rulePorts([], api).toString()).toBe('every port');
  });

  const fe = pod('s', { app: 'frontend' }, [['http', 8080]]);
  const api = pod('s', { app: 'api' }, [
    ['http', 8080],
    ['debug', 9090],
  ]);
  const db = pod('s', { app: 'db' }, [['pg', 5432]]);
  const stranger = pod('x', { app: 'frontend' });
  const solution = [
    np('s', 'default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
    np('s', 'fe', {
      podSelector: { matchLabels: { app: 'frontend' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ ports: [{ port: 8080 }] }],
      egress: [{ to: [{ podSelector: { matchLabels: { app: 'api' } } }], ports: [{ port: 'http' }] }],
    }),
    np('s', 'api', {
      podSelector: { matchLabels: { app: 'api' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'frontend' } } }], ports: [{ port: 8080 }] }],
      egress: [{ to: [{ podSelector: { matchLabels: { app: 'db' } } }], ports: [{ port: 5432 }] }],
    }),
    np('s', 'db', {
      podSelector: { matchLabels: { app: 'db' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'api' } } }], ports: [{ port: 5432 }] }],
    }),
  ];

  it('needs both the sender egress and the receiver ingress', () => {
    expect(podToPod(solution, fe, api).ports.toString()).toBe('8080/TCP');
    expect(podToPod(solution, api, db).ports.toString()).toBe('5432/TCP');
    expect(podToPod(solution, fe, db).ports.isEmpty()).toBe(true);
    expect(podToPod(solution, stranger, api).ports.isEmpty()).toBe(true); // same labels, other namespace
    expect(podToPod(solution, stranger, fe).ports.toString()).toBe('8080/TCP'); // web traffic from anywhere
    expect(podToPod([], stranger, db).ports.toString()).toBe('every port'); // nothing isolates either side
  });

  it('unions the allows of every policy that selects a pod', () => {
    const extra = [...solution, np('s', 'oops', { podSelector: {}, ingress: [{}] })];
    expect(podToPod(extra, stranger, db).ports.toString()).toBe('every port');
    expect(podSide(extra, db, 'Ingress', stranger).allowedBy).toEqual(['oops']);
  });

  it('treats addresses with ipBlock and except, and only ipBlock', () => {
    const egress = [
      ...solution,
      np('s', 'out', {
        podSelector: { matchLabels: { app: 'api' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.169.254/32', '10.0.0.0/8'] } }], ports: [{ port: 443 }] }],
      }),
    ];
    const side = addressSide(egress, api, 'Egress');
    expect(addressPorts(side, IpSet.cidr('8.8.8.8/32')).ports.toString()).toBe('443/TCP');
    expect(addressPorts(side, IpSet.cidr('169.254.169.254/32')).ports.isEmpty()).toBe(true);
    expect(addressPorts(side, IpSet.cidr('10.1.1.1/32')).ports.isEmpty()).toBe(true);
    const excess = addressExcess(side.allows, [{ ips: IpSet.cidr('8.8.8.8/32'), ports: PortSet.parse(['443']) }]);
    expect(excess).toHaveLength(1);
    expect(excess[0].ports.toString()).toBe('443/TCP');
    expect(excess[0].ips.covers(IpSet.cidr('8.8.8.8/32'))).toBe(false);
    expect(excess[0].ips.covers(IpSet.cidr('1.1.1.1/32'))).toBe(true);
    expect(addressExcess(addressSide(solution, api, 'Egress').allows, [])).toEqual([]);
    // not isolated: every address, every port
    expect(addressExcess(addressSide([], api, 'Egress').allows, [])[0].ports.toString()).toBe('every port');
  });
});
