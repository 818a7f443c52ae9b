/**
 * What a NetworkPolicy-enforcing network plugin decides, from the policies in the API — exactly, for
 * every shape the networking.k8s.io/v1 API allows: podSelector / namespaceSelector alone or ANDed in
 * one peer (ORed across peers), ipBlock with `except`, numbered and named ports, `endPort` ranges,
 * TCP/UDP/SCTP, policyTypes (defaulted as the API server does: Egress only when listed or when egress
 * rules are present), empty selectors, and any number of policies (their allows are unioned). Ports
 * are sets of ranges per protocol and addresses sets of ranges per IP family, so "which ports" and
 * "which addresses" are answered for all of them, not for a sample. Pure: no cluster access.
 *
 * Pods are matched by selectors only, addresses by ipBlock only (what the API documents: ipBlock is
 * meant for addresses outside the cluster; plugins differ on whether it also matches pod IPs).
 */

export type Proto = 'TCP' | 'UDP' | 'SCTP';
export const PROTOS: Proto[] = ['TCP', 'UDP', 'SCTP'];
type Range = [number, number];
type BRange = [bigint, bigint];

// ---------------------------------------------------------------------------------------------- ports

function normalize(rs: Range[]): Range[] {
  const s = rs.filter(([a, b]) => a <= b).sort((x, y) => x[0] - y[0]);
  const out: Range[] = [];
  for (const r of s) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}
function intersectRanges(a: Range[], b: Range[]): Range[] {
  const out: Range[] = [];
  for (const [x, y] of a)
    for (const [u, v] of b) {
      const lo = Math.max(x, u);
      const hi = Math.min(y, v);
      if (lo <= hi) out.push([lo, hi]);
    }
  return normalize(out);
}
function minusRanges(a: Range[], b: Range[]): Range[] {
  let cur = a.map((r) => [...r] as Range);
  for (const [u, v] of b) {
    const next: Range[] = [];
    for (const [x, y] of cur) {
      if (v < x || u > y) {
        next.push([x, y]);
        continue;
      }
      if (x < u) next.push([x, u - 1]);
      if (y > v) next.push([v + 1, y]);
    }
    cur = next;
  }
  return normalize(cur);
}

/** A set of ports per protocol (1–65535). */
export class PortSet {
  private constructor(readonly byProto: Record<Proto, Range[]>) {}
  static none(): PortSet {
    return new PortSet({ TCP: [], UDP: [], SCTP: [] });
  }
  static all(): PortSet {
    return new PortSet({ TCP: [[1, 65535]], UDP: [[1, 65535]], SCTP: [[1, 65535]] });
  }
  static of(proto: Proto, from: number, to = from): PortSet {
    const p = PortSet.none();
    p.byProto[proto] = normalize([[from, to]]);
    return p;
  }
  static allOf(proto: Proto): PortSet {
    return PortSet.of(proto, 1, 65535);
  }
  /** `8080`, `8080/TCP`, `53/UDP`, `30000-32767/TCP`, `any`, `any/UDP`. */
  static parse(specs: string[]): PortSet {
    let s = PortSet.none();
    for (const spec of specs) {
      const m = /^(any|\d+(?:-\d+)?)(?:\/(TCP|UDP|SCTP))?$/i.exec(spec.trim());
      if (!m) throw new Error(`"${spec}" is not a port (8080, 53/UDP, 1000-2000/TCP, any, any/UDP)`);
      const protos: Proto[] = m[2] ? [m[2].toUpperCase() as Proto] : m[1].toLowerCase() === 'any' ? PROTOS : ['TCP'];
      for (const pr of protos) {
        if (m[1].toLowerCase() === 'any') s = s.union(PortSet.allOf(pr));
        else {
          const [a, b = a] = m[1].split('-').map(Number);
          s = s.union(PortSet.of(pr, a, b));
        }
      }
    }
    return s;
  }
  union(o: PortSet): PortSet {
    return new PortSet(Object.fromEntries(PROTOS.map((p) => [p, normalize([...this.byProto[p], ...o.byProto[p]])])) as Record<Proto, Range[]>);
  }
  intersect(o: PortSet): PortSet {
    return new PortSet(Object.fromEntries(PROTOS.map((p) => [p, intersectRanges(this.byProto[p], o.byProto[p])])) as Record<Proto, Range[]>);
  }
  minus(o: PortSet): PortSet {
    return new PortSet(Object.fromEntries(PROTOS.map((p) => [p, minusRanges(this.byProto[p], o.byProto[p])])) as Record<Proto, Range[]>);
  }
  isEmpty(): boolean {
    return PROTOS.every((p) => this.byProto[p].length === 0);
  }
  has(proto: Proto, port: number): boolean {
    return this.byProto[proto].some(([a, b]) => port >= a && port <= b);
  }
  covers(o: PortSet): boolean {
    return o.minus(this).isEmpty();
  }
  /** The boundaries of its ranges, per protocol (for splitting into pieces that are wholly in or out of other sets). */
  cuts(proto: Proto): number[] {
    return this.byProto[proto].flatMap(([a, b]) => [a, b + 1]);
  }
  /** `8080/TCP`, `53/UDP and 53/TCP`, `any TCP port`, `every port`. */
  toString(): string {
    if (this.isEmpty()) return 'no port';
    if (PROTOS.every((p) => this.byProto[p].length === 1 && this.byProto[p][0][0] === 1 && this.byProto[p][0][1] === 65535)) return 'every port';
    const parts: string[] = [];
    for (const p of PROTOS) {
      for (const [a, b] of this.byProto[p]) {
        if (a === 1 && b === 65535) parts.push(`any ${p} port`);
        else parts.push(a === b ? `${a}/${p}` : `${a}-${b}/${p}`);
      }
    }
    return parts.length > 4 ? `${parts.slice(0, 4).join(', ')}, …` : parts.join(', ');
  }
}

// ---------------------------------------------------------------------------------------- addresses

function bnormalize(rs: BRange[]): BRange[] {
  const s = rs.filter(([a, b]) => a <= b).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const out: BRange[] = [];
  for (const r of s) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1n) last[1] = last[1] > r[1] ? last[1] : r[1];
    else out.push([r[0], r[1]]);
  }
  return out;
}
function bminus(a: BRange[], b: BRange[]): BRange[] {
  let cur = a.map((r) => [...r] as BRange);
  for (const [u, v] of b) {
    const next: BRange[] = [];
    for (const [x, y] of cur) {
      if (v < x || u > y) {
        next.push([x, y]);
        continue;
      }
      if (x < u) next.push([x, u - 1n]);
      if (y > v) next.push([v + 1n, y]);
    }
    cur = next;
  }
  return bnormalize(cur);
}
function bintersect(a: BRange[], b: BRange[]): BRange[] {
  const out: BRange[] = [];
  for (const [x, y] of a)
    for (const [u, v] of b) {
      const lo = x > u ? x : u;
      const hi = y < v ? y : v;
      if (lo <= hi) out.push([lo, hi]);
    }
  return bnormalize(out);
}

function parseV4(s: string): bigint | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const o = m.slice(1).map(Number);
  if (o.some((x) => x > 255)) return undefined;
  return o.reduce((a, x) => a * 256n + BigInt(x), 0n);
}
function parseV6(s: string): bigint | undefined {
  let str = s;
  let tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(str);
  if (v4) {
    const n = parseV4(v4[1]);
    if (n === undefined) return undefined;
    tail = [Number(n >> 16n), Number(n & 0xffffn)];
    str = str.slice(0, -v4[1].length) + (str.endsWith(`:${v4[1]}`) ? '0:0' : '');
  }
  const halves = str.split('::');
  if (halves.length > 2) return undefined;
  const part = (h: string) => (h ? h.split(':').map((x) => parseInt(x, 16)) : []);
  const head = part(halves[0]);
  const back = halves.length === 2 ? part(halves[1]) : [];
  let groups = halves.length === 2 ? [...head, ...Array(8 - head.length - back.length).fill(0), ...back] : head;
  if (tail.length) groups = [...groups.slice(0, 6), ...tail];
  if (groups.length !== 8 || groups.some((g) => Number.isNaN(g) || g < 0 || g > 0xffff)) return undefined;
  return groups.reduce((a, g) => a * 65536n + BigInt(g), 0n);
}

/** A set of addresses, IPv4 and IPv6 apart. */
export class IpSet {
  private constructor(
    readonly v4: BRange[],
    readonly v6: BRange[],
  ) {}
  static none(): IpSet {
    return new IpSet([], []);
  }
  static all(): IpSet {
    return new IpSet([[0n, 2n ** 32n - 1n]], [[0n, 2n ** 128n - 1n]]);
  }
  /** A CIDR (`10.0.0.0/8`, `169.254.169.254/32`, `::/0`) or a single address; throws on nonsense. */
  static cidr(c: string): IpSet {
    const [addr, bitsStr] = c.trim().split('/');
    const six = addr.includes(':');
    const n = six ? parseV6(addr) : parseV4(addr);
    const width = six ? 128 : 32;
    const bits = bitsStr === undefined ? width : Number(bitsStr);
    if (n === undefined || !Number.isInteger(bits) || bits < 0 || bits > width) throw new Error(`"${c}" is not a CIDR`);
    const size = 2n ** BigInt(width - bits);
    const start = (n / size) * size;
    const r: BRange[] = [[start, start + size - 1n]];
    return six ? new IpSet([], r) : new IpSet(r, []);
  }
  static tryCidr(c: string): IpSet | undefined {
    try {
      return IpSet.cidr(c);
    } catch {
      return undefined;
    }
  }
  union(o: IpSet): IpSet {
    return new IpSet(bnormalize([...this.v4, ...o.v4]), bnormalize([...this.v6, ...o.v6]));
  }
  minus(o: IpSet): IpSet {
    return new IpSet(bminus(this.v4, o.v4), bminus(this.v6, o.v6));
  }
  intersect(o: IpSet): IpSet {
    return new IpSet(bintersect(this.v4, o.v4), bintersect(this.v6, o.v6));
  }
  isEmpty(): boolean {
    return !this.v4.length && !this.v6.length;
  }
  covers(o: IpSet): boolean {
    return o.minus(this).isEmpty();
  }
  /** Some address in the set, preferring the ones that tell a story (the metadata service, the internet). */
  example(prefer: string[] = []): string | undefined {
    for (const p of prefer) {
      const s = IpSet.tryCidr(p);
      if (s && !s.intersect(this).isEmpty()) return p.split('/')[0];
    }
    if (this.v4.length) {
      const n = this.v4[0][0];
      return [24n, 16n, 8n, 0n].map((sh) => String((n >> sh) & 255n)).join('.');
    }
    if (this.v6.length) return `ipv6 ${this.v6[0][0].toString(16)}`;
    return undefined;
  }
  /** The set as CIDR-ish ranges, for messages. */
  toString(): string {
    if (this.isEmpty()) return 'no address';
    const all = IpSet.all();
    if (this.covers(all)) return 'every address';
    const v4 = this.v4.map(([a, b]) => rangeToText(a, b, 32));
    const v6 = this.v6.map(([a, b]) => rangeToText(a, b, 128));
    const parts = [...v4, ...v6];
    return parts.length > 3 ? `${parts.slice(0, 3).join(', ')}, …` : parts.join(', ');
  }
}
function ipText(n: bigint, width: number): string {
  if (width === 32) return [24n, 16n, 8n, 0n].map((sh) => String((n >> sh) & 255n)).join('.');
  const g: string[] = [];
  for (let i = 7; i >= 0; i--) g.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  return g.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}
function rangeToText(a: bigint, b: bigint, width: number): string {
  const size = b - a + 1n;
  const bits = size.toString(2).length - 1;
  if (2n ** BigInt(bits) === size && a % size === 0n) return `${ipText(a, width)}/${width - bits}`;
  return `${ipText(a, width)}-${ipText(b, width)}`;
}

// ----------------------------------------------------------------------------------------- policies

export type Selector =
  { matchLabels?: Record<string, string> | null; matchExpressions?: { key: string; operator: string; values?: string[] | null }[] | null } | null | undefined;
type Labels = Record<string, string>;

/** A label selector as the API evaluates it (absent or `{}`: everything). */
export function matches(sel: Selector, labels: Labels): boolean {
  if (!sel) return true;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const val = labels[e.key];
    const values = e.values ?? [];
    if (e.operator === 'In') {
      if (!(has && values.includes(val))) return false;
    } else if (e.operator === 'NotIn') {
      if (has && values.includes(val)) return false;
    } else if (e.operator === 'Exists') {
      if (!has) return false;
    } else if (e.operator === 'DoesNotExist') {
      if (has) return false;
    } else return false; // an operator the API would have refused
  }
  return true;
}

export function selectorText(sel: Selector): string {
  if (!sel) return '{}';
  const parts = [
    ...Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(sel.matchExpressions ?? []).map((e) => `${e.key} ${e.operator}${e.values?.length ? ` (${e.values.join(',')})` : ''}`),
  ];
  return parts.length ? parts.join(',') : '{}';
}

export interface NetPeer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: string; except?: string[] | null } | null;
}
export interface NetPort {
  port?: number | string | null;
  endPort?: number | null;
  protocol?: string | null;
}
interface NetRule {
  from?: NetPeer[] | null;
  to?: NetPeer[] | null;
  ports?: NetPort[] | null;
}
export interface NetworkPolicy {
  metadata: { name: string; namespace: string };
  spec?: { podSelector?: Selector; policyTypes?: string[] | null; ingress?: NetRule[] | null; egress?: NetRule[] | null } | null;
}

/** A pod as the policies see it: its namespace (and that namespace's labels), its labels, its named ports. */
export interface PodRef {
  namespace: string;
  nsLabels: Labels;
  labels: Labels;
  /** Container ports by name; `any`: a pod someone else makes can name any port anything. */
  namedPorts: Map<string, { port: number; protocol: Proto }[]> | 'any';
  /** How messages name it. */
  name: string;
}

export type Direction = 'Ingress' | 'Egress';

/** The policy types a policy has, defaulted as the API server does. */
export function policyTypes(np: NetworkPolicy): Direction[] {
  const t = np.spec?.policyTypes;
  if (t && t.length) return t.filter((x): x is Direction => x === 'Ingress' || x === 'Egress');
  return (np.spec?.egress ?? []).length ? ['Ingress', 'Egress'] : ['Ingress'];
}

/** The policies that select a pod for a direction (only a pod's own namespace's policies can). */
export function applying(policies: NetworkPolicy[], pod: PodRef, dir: Direction): NetworkPolicy[] {
  return policies.filter((np) => np.metadata.namespace === pod.namespace && matches(np.spec?.podSelector ?? {}, pod.labels) && policyTypes(np).includes(dir));
}

const protoOf = (p?: string | null): Proto => (p === 'UDP' || p === 'SCTP' ? p : 'TCP');

/** The ports a rule's `ports` allow; named ports resolved against `named` (the pod that listens), none for an address. */
export function rulePorts(ports: NetPort[] | null | undefined, named: PodRef | undefined): PortSet {
  if (!ports || ports.length === 0) return PortSet.all();
  let s = PortSet.none();
  for (const p of ports) {
    const proto = protoOf(p.protocol);
    if (p.port === undefined || p.port === null) {
      s = s.union(PortSet.allOf(proto));
      continue;
    }
    if (typeof p.port === 'number' || /^\d+$/.test(p.port)) {
      const n = Number(p.port);
      s = s.union(PortSet.of(proto, n, p.endPort && p.endPort >= n ? p.endPort : n));
      continue;
    }
    if (!named) continue;
    if (named.namedPorts === 'any') {
      s = s.union(PortSet.allOf(proto));
      continue;
    }
    for (const np of named.namedPorts.get(p.port) ?? []) if (np.protocol === proto) s = s.union(PortSet.of(proto, np.port));
  }
  return s;
}

/** Does a peer (one entry of from/to) select a pod? podSelector and namespaceSelector in one peer must both match. */
export function peerSelectsPod(peer: NetPeer, policyNs: string, pod: PodRef): boolean {
  if (peer.ipBlock) return false;
  if (!peer.podSelector && !peer.namespaceSelector) return false;
  if (peer.namespaceSelector) {
    if (!matches(peer.namespaceSelector, pod.nsLabels)) return false;
  } else if (pod.namespace !== policyNs) return false;
  return peer.podSelector ? matches(peer.podSelector, pod.labels) : true;
}

/** The addresses a peer selects (ipBlock minus its exceptions). */
export function peerAddresses(peer: NetPeer): IpSet {
  if (!peer.ipBlock) return IpSet.none();
  let s = IpSet.tryCidr(peer.ipBlock.cidr) ?? IpSet.none();
  for (const e of peer.ipBlock.except ?? []) s = s.minus(IpSet.tryCidr(e) ?? IpSet.none());
  return s;
}

/** What one side of a connection allows: every port (not isolated) or the union of its policies' rules. */
export interface SideVerdict {
  isolated: boolean;
  ports: PortSet;
  allowedBy: string[];
  applying: string[];
}

const rulesOf = (np: NetworkPolicy, dir: Direction): NetRule[] => (dir === 'Ingress' ? np.spec?.ingress : np.spec?.egress) ?? [];
const peersOf = (r: NetRule, dir: Direction): NetPeer[] => (dir === 'Ingress' ? r.from : r.to) ?? [];

/**
 * `subject`'s side of a connection with pod `other`: as the receiver (Ingress, `other` connects to it)
 * or the sender (Egress, it connects to `other`). Ports are those of the receiving pod.
 */
export function podSide(policies: NetworkPolicy[], subject: PodRef, dir: Direction, other: PodRef): SideVerdict {
  const ap = applying(policies, subject, dir);
  if (!ap.length) return { isolated: false, ports: PortSet.all(), allowedBy: [], applying: [] };
  let ports = PortSet.none();
  const by = new Set<string>();
  for (const np of ap) {
    for (const r of rulesOf(np, dir)) {
      const peers = peersOf(r, dir);
      if (peers.length && !peers.some((pe) => peerSelectsPod(pe, np.metadata.namespace, other))) continue;
      const rp = rulePorts(r.ports, dir === 'Ingress' ? subject : other);
      if (rp.isEmpty()) continue;
      ports = ports.union(rp);
      by.add(np.metadata.name);
    }
  }
  return { isolated: true, ports, allowedBy: [...by], applying: ap.map((n) => n.metadata.name) };
}

/** A pod → pod connection: the sender's egress and the receiver's ingress must both allow a port. */
export function podToPod(policies: NetworkPolicy[], from: PodRef, to: PodRef): { ports: PortSet; egress: SideVerdict; ingress: SideVerdict } {
  const egress = podSide(policies, from, 'Egress', to);
  const ingress = podSide(policies, to, 'Ingress', from);
  return { ports: egress.ports.intersect(ingress.ports), egress, ingress };
}

/** One allow of addresses: these addresses, on these ports (of the pod for Ingress; named ports match no address for Egress), by this policy. */
export interface AddressAllow {
  ips: IpSet;
  ports: PortSet;
  policy: string;
}

/** What a pod's side allows to or from addresses (outside the cluster, the node, the metadata service…). */
export function addressSide(policies: NetworkPolicy[], subject: PodRef, dir: Direction): { isolated: boolean; allows: AddressAllow[]; applying: string[] } {
  const ap = applying(policies, subject, dir);
  if (!ap.length) return { isolated: false, allows: [{ ips: IpSet.all(), ports: PortSet.all(), policy: '' }], applying: [] };
  const allows: AddressAllow[] = [];
  for (const np of ap) {
    for (const r of rulesOf(np, dir)) {
      const peers = peersOf(r, dir);
      let ips = IpSet.none();
      if (!peers.length) ips = IpSet.all();
      else for (const pe of peers) ips = ips.union(peerAddresses(pe));
      if (ips.isEmpty()) continue;
      const ports = rulePorts(r.ports, dir === 'Ingress' ? subject : undefined);
      if (ports.isEmpty()) continue;
      allows.push({ ips, ports, policy: np.metadata.name });
    }
  }
  return { isolated: true, allows, applying: ap.map((n) => n.metadata.name) };
}

/** The ports open to or from every address of `ips` (what a subset of those addresses may use is not counted). */
export function addressPorts(side: { allows: AddressAllow[] }, ips: IpSet): { ports: PortSet; by: string[] } {
  // Split ports into pieces wholly inside or outside each allow; a piece is open when the allows covering it cover `ips`.
  const pieces = portPieces(side.allows.map((a) => a.ports));
  let ports = PortSet.none();
  const by = new Set<string>();
  for (const { proto, from, to } of pieces) {
    const covering = side.allows.filter((a) => a.ports.has(proto, from));
    const union = covering.reduce((s, a) => s.union(a.ips), IpSet.none());
    if (union.covers(ips)) {
      ports = ports.union(PortSet.of(proto, from, to));
      for (const a of covering) if (!a.ips.intersect(ips).isEmpty()) by.add(a.policy);
    }
  }
  return { ports, by: [...by].filter(Boolean) };
}

/** Port ranges, per protocol, each wholly inside or outside every one of `sets`. */
export function portPieces(sets: PortSet[]): { proto: Proto; from: number; to: number }[] {
  const out: { proto: Proto; from: number; to: number }[] = [];
  for (const proto of PROTOS) {
    const cuts = [...new Set([1, 65536, ...sets.flatMap((s) => s.cuts(proto))])].sort((a, b) => a - b);
    for (let i = 0; i + 1 < cuts.length; i++) out.push({ proto, from: cuts[i], to: cuts[i + 1] - 1 });
  }
  return out;
}

/**
 * The part of what the allows open that `permitted` does not: for each piece of the port space, the
 * addresses opened on it beyond the addresses permitted on it. Empty when nothing more is open.
 */
export function addressExcess(allows: AddressAllow[], permitted: { ips: IpSet; ports: PortSet }[]): { ips: IpSet; ports: PortSet; policies: string[] }[] {
  const pieces = portPieces([...allows.map((a) => a.ports), ...permitted.map((p) => p.ports)]);
  const out: { ips: IpSet; ports: PortSet; policies: string[] }[] = [];
  for (const { proto, from, to } of pieces) {
    const opened = allows.filter((a) => a.ports.has(proto, from));
    if (!opened.length) continue;
    const ok = permitted.filter((p) => p.ports.has(proto, from)).reduce((s, p) => s.union(p.ips), IpSet.none());
    for (const a of opened) {
      const extra = a.ips.minus(ok);
      if (extra.isEmpty()) continue;
      const prev = out.find((o) => o.policies.join() === a.policy && o.ips.covers(extra) && extra.covers(o.ips));
      if (prev) prev.ports = prev.ports.union(PortSet.of(proto, from, to));
      else out.push({ ips: extra, ports: PortSet.of(proto, from, to), policies: [a.policy] });
    }
  }
  return out;
}
