import { UserError } from '../errors.js';

/** What `up --engine existing` is given: the instructor's context (and kubeconfig file) and the learner's prefix. */
export interface ExistingOptions {
  context?: string;
  kubeconfig?: string;
  prefix?: string;
}

/** A learner's prefix: a DNS label short enough that prefix-namespace stays one. */
const PREFIX = /^[a-z0-9](?:[a-z0-9-]{0,18}[a-z0-9])?$/;

export function validatePrefix(p: string): string {
  if (!PREFIX.test(p))
    throw new UserError(
      `--namespace-prefix must be 1–20 lower-case letters, digits and inner dashes (got ${JSON.stringify(p)})`,
      'for example --namespace-prefix alice',
    );
  return p;
}

/** What `up` is missing before it may touch someone else's cluster: one line, naming it. */
export function missingSharedOptions(o: ExistingOptions): string | undefined {
  const missing = [!o.context && '--context', !o.prefix && '--namespace-prefix'].filter(Boolean);
  return missing.length ? `--engine existing needs ${missing.join(' and ')} (missing)` : undefined;
}
