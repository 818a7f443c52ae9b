/**
 * Placeholders in lesson text: the lab's real names, filled in when the lab shows a lesson (its
 * text, debrief, title, objectives, hints, check titles and reference solution), so a command a
 * lesson gives works in every lab — a named one (`--name`), on either engine, or on a shared
 * cluster where the learner's namespaces carry a prefix.
 *
 *   {{node}}        the control-plane node's name (`kubectl get nodes`); on kind also its Docker container
 *   {{nodeShell}}   the command that takes the learner's shell to the node's files
 *                   (kind: `docker exec -it <node> bash`; local: `cd <the folder that stands for the node's />`)
 *   {{nodeRoot}}    the node's `/` as a path prefix in the learner's shell: `{{nodeRoot}}/etc/kubernetes`
 *                   (kind: empty — inside `docker exec` the node's paths are the paths; local: that folder)
 *   {{nodeAccess}}  one sentence: how to reach the node's files on this engine (what `start` prints)
 *   {{workspace}}   the lab's workspace folder (files a lesson hands the learner)
 *   {{ns:NAME}}     the lab's namespace NAME as named in the cluster (`P-NAME` on a shared cluster)
 *
 * Anything else between `{{` and `}}` is a load error naming the file, its line and the placeholder.
 */

/** What the engine says about its control-plane node (undefined: it gives no node access). */
export interface NodeNames {
  /** The node's name in Kubernetes (kind: also its container's). */
  node: string;
  /** The command that takes a shell to the node's files. */
  shell: string;
  /** The node's `/` as a prefix of paths in the learner's shell ('' where the shell is on the node). */
  root: string;
}

/** Every value a placeholder can take in one lab. */
export interface LabNames {
  /** The engine's node, if it gives node access. */
  node?: NodeNames;
  /** `{{nodeAccess}}`: the engine's own sentence (a shared cluster: that there is none). */
  nodeAccess: string;
  /** `{{workspace}}`: the lab's workspace folder. */
  workspace: string;
  /** A lab namespace as named in the cluster. */
  ns(name: string): string;
}

export const PLACEHOLDERS = ['node', 'nodeShell', 'nodeRoot', 'nodeAccess', 'workspace', 'ns:NAME'] as const;
/** Placeholders that only mean something where the learner reaches a node. */
const NODE_PLACEHOLDERS = new Set(['node', 'nodeShell', 'nodeRoot', 'nodeAccess']);

const ANY = /\{\{(.*?)\}\}/g;
const NS_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export interface PlaceholderProblem {
  line: number;
  placeholder: string;
  message: string;
}

function parse(inner: string): { name: string; arg?: string } | undefined {
  const m = /^\s*([A-Za-z]+)(?::([^\s}]*))?\s*$/.exec(inner);
  return m ? { name: m[1], arg: m[2] } : undefined;
}

/** Why a `{{…}}` is not a placeholder the lab fills (undefined: it is one). */
function problemOf(inner: string): string | undefined {
  const p = parse(inner);
  const known = `known: ${PLACEHOLDERS.map((k) => `{{${k}}}`).join(', ')}`;
  if (!p) return `unknown placeholder (${known})`;
  if (p.name === 'ns')
    return p.arg !== undefined && NS_NAME.test(p.arg) ? undefined : `{{ns:NAME}} needs a namespace name after the colon (got ${JSON.stringify(p.arg ?? '')})`;
  if ((NODE_PLACEHOLDERS.has(p.name) || p.name === 'workspace') && p.arg === undefined) return undefined;
  return `unknown placeholder (${known})`;
}

/** Every `{{…}}` in a text that the lab cannot fill, with its 1-based line; a lone `{{` counts too. */
export function placeholderProblems(text: string): PlaceholderProblem[] {
  const out: PlaceholderProblem[] = [];
  text.split('\n').forEach((line, i) => {
    const spans: [number, number][] = [];
    for (const m of line.matchAll(ANY)) {
      spans.push([m.index!, m.index! + m[0].length]);
      const why = problemOf(m[1]);
      if (why) out.push({ line: i + 1, placeholder: m[0], message: why });
    }
    // `{{` with no `}}` after it on the line: never filled, so never shown as is.
    for (let at = line.indexOf('{{'); at >= 0; at = line.indexOf('{{', at + 2)) {
      if (!spans.some(([a, b]) => at >= a && at < b)) {
        out.push({ line: i + 1, placeholder: '{{', message: 'a `{{` that opens no placeholder (placeholders are `{{name}}` on one line)' });
        break;
      }
    }
  });
  return out;
}

/** The placeholders a text uses (well-formed ones), e.g. `node`, `ns`. */
export function placeholdersIn(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(ANY)) {
    const p = parse(m[1]);
    if (p) out.add(p.name);
  }
  return out;
}

/** Whether a text sends the learner to the node. */
export function usesNode(text: string): boolean {
  return [...placeholdersIn(text)].some((p) => NODE_PLACEHOLDERS.has(p));
}

/** Where an engine gives no node access (a shared cluster), node placeholders say so. */
const NO_NODE = '(no node access on this engine)';

/** A text with every placeholder filled with this lab's names (texts were checked at load). */
export function renderText(text: string, names: LabNames): string {
  if (!text.includes('{{')) return text;
  return text.replace(ANY, (whole, inner: string) => {
    const p = parse(inner);
    if (!p) return whole;
    switch (p.name) {
      case 'ns':
        return p.arg ? names.ns(p.arg) : whole;
      case 'node':
        return names.node?.node ?? NO_NODE;
      case 'nodeShell':
        return names.node?.shell ?? NO_NODE;
      case 'nodeRoot':
        return names.node ? names.node.root : NO_NODE;
      case 'nodeAccess':
        return names.nodeAccess;
      case 'workspace':
        return names.workspace;
      default:
        return whole;
    }
  });
}

/** The text fields of lesson.yaml the lab fills (anything else is data, used as written). */
export function stripTextFields(raw: Record<string, unknown>): Record<string, unknown> {
  const { title: _t, guide: _g, objectives: _o, hints: _h, links: _l, checks, ...rest } = raw;
  const strippedChecks = Array.isArray(checks) ? checks.map((c) => (c && typeof c === 'object' ? { ...(c as object), title: undefined } : c)) : checks;
  return { ...rest, checks: strippedChecks };
}
