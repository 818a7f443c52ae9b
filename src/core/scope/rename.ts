/**
 * Shared-cluster mode (`--engine existing --namespace-prefix P`): every namespace N the lab owns
 * becomes P-N, wherever the lab names it — scenario and fix manifests, steps, and the checks'
 * parameters. The one place that knows how; the other engines use `IDENTITY`, which changes nothing.
 */

/** The label every namespace carries with its own name (immutable, set by the API server). */
export const NAME_LABEL = 'kubernetes.io/metadata.name';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class NamespaceRenamer {
  private readonly names: ReadonlySet<string>;
  private readonly patterns: [RegExp, (n: string) => string][];

  /**
   * `prefix`: the learner's prefix (no trailing dash); `names`: the namespaces the lab owns and
   * renames (every other namespace — kube-system, say — keeps its name).
   */
  constructor(
    readonly prefix: string | undefined,
    names: Iterable<string> = [],
  ) {
    this.names = new Set(prefix ? names : []);
    const alt = [...this.names]
      .sort((a, b) => b.length - a.length)
      .map(escape)
      .join('|');
    this.patterns = alt
      ? [
          // A ServiceAccount as a user name, and a namespace's ServiceAccounts as a group.
          [new RegExp(`(system:serviceaccount:)(${alt})(?=:)`, 'g'), (n) => this.ns(n)],
          [new RegExp(`(system:serviceaccounts:)(${alt})$`, 'g'), (n) => this.ns(n)],
          // A Service's DNS name: <svc>.<ns>.svc[.cluster.local] (also inside URLs and connection strings).
          [new RegExp(`((?:^|[^a-z0-9-])[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\\.)(${alt})(?=\\.svc(?:[.:/\\s"']|$))`, 'g'), (n) => this.ns(n)],
        ]
      : [];
  }

  /** Whether this renamer changes anything (shared-cluster mode). */
  get active(): boolean {
    return this.names.size > 0;
  }

  /** The namespaces the lab owns, as named in the cluster. */
  get namespaces(): string[] {
    return [...this.names].map((n) => this.ns(n)).sort();
  }

  /** A namespace name as it is in the cluster: P-N for the lab's own, unchanged otherwise. */
  ns(name: string): string {
    return this.names.has(name) ? `${this.prefix}-${name}` : name;
  }

  /** Free text that may name a lab namespace in a ServiceAccount user/group or a Service DNS name. */
  text(s: string): string {
    let out = s;
    for (const [re, f] of this.patterns) out = out.replace(re, (_m, head: string, n: string) => `${head}${f(n)}`);
    return out;
  }

  /**
   * Any lesson data (a manifest, a step, a check's parameters), deep: `namespace` fields, the name
   * of a Namespace (`kind: Namespace` beside `name`, or a Namespace object's metadata.name), the
   * `kubernetes.io/metadata.name` label (as a label, in a matchLabels or a matchExpression), and
   * ServiceAccount user names, groups and Service DNS names in any string. Returns a copy.
   */
  value<T>(v: T): T {
    if (!this.active) return v;
    return this.walk(v, undefined) as T;
  }

  private walk(v: unknown, key: string | undefined): unknown {
    if (typeof v === 'string') return key === 'namespace' || key === NAME_LABEL ? this.ns(v) : this.text(v);
    if (Array.isArray(v)) return v.map((x) => this.walk(x, undefined));
    if (!v || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = this.walk(x, k);
    // An object reference to a Namespace ({kind: Namespace, name}), and a Namespace object itself.
    if (o.kind === 'Namespace' && typeof o.name === 'string') out.name = this.ns(o.name);
    if (o.kind === 'Namespace' && o.metadata && typeof (o.metadata as { name?: unknown }).name === 'string') {
      (out.metadata as Record<string, unknown>).name = this.ns((o.metadata as { name: string }).name);
    }
    // matchExpressions: [{key: kubernetes.io/metadata.name, operator: In, values: [N]}]
    if (o.key === NAME_LABEL && Array.isArray(o.values)) out.values = o.values.map((x) => (typeof x === 'string' ? this.ns(x) : x));
    return out;
  }
}

/** Local and kind: every namespace keeps its name. */
export const IDENTITY = new NamespaceRenamer(undefined);
