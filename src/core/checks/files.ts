import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubernetesObject } from '@kubernetes/client-node';

/** Load the Kubernetes objects of a YAML file relative to a lesson folder (or inline). */
export async function loadObjects(lessonDir: string, ref: { file?: string; manifest?: Record<string, unknown> }): Promise<KubernetesObject[]> {
  if (ref.manifest) return [ref.manifest as KubernetesObject];
  const text = await readFile(join(lessonDir, ref.file!), 'utf8');
  return parseAllDocuments(text)
    .map((d) => d.toJS())
    .filter((o) => o && typeof o === 'object') as KubernetesObject[];
}

export function describe(o: { kind?: string; metadata?: { name?: string; namespace?: string } }): string {
  const ns = o.metadata?.namespace ? `${o.metadata.namespace}/` : '';
  return `${o.kind ?? 'object'} ${ns}${o.metadata?.name ?? '?'}`;
}
