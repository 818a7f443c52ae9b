import type { Variant } from './types.js';

export interface ImageBatteryParams {
  /** An image the rule must admit: the workload's own (trusted registry, pinned by digest, signed where that is the rule). */
  image: string;
  /** The rule also requires a signature: another digest of the same repository (unsigned) is one more variant. */
  signed?: boolean;
  /** A pod's other fields the namespace asks for (a runtime class, a security context), so only the image differs. */
  podSpec?: Record<string, unknown>;
}

/** `host/path[:tag]@sha256:hex` → parts (undefined when not pinned by digest). */
export function splitImage(image: string): { host: string; path: string; digest: string } | undefined {
  const m = /^([^/]+)\/(.+?)(?::[\w][\w.-]{0,127})?@(sha256:[0-9a-f]{64})$/.exec(image);
  return m ? { host: m[1], path: m[2], digest: m[3] } : undefined;
}

/** A digest no build has (an image nobody signed). */
export const OTHER_DIGEST = 'sha256:5d1a0c3a9e6f2b7c8d4e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c';
const NGINX = 'docker.io/library/nginx@sha256:2bd8fb36d4e28afe38a5c1e5a81c22eec4e396f0185e802061bbd6caf5133244';

/**
 * Every way an untrusted image gets into a pod: the image itself (by tag, from another registry by
 * digest, from a look-alike registry, a short name that means docker.io, another — unsigned —
 * digest of the same repository) and every place it can stand (the only container, a second
 * container, an init container, an ephemeral container added to a running pod, an existing pod's
 * image changed in place — pods allow that UPDATE). Workload templates are not tried: their
 * controllers create pods through the API server, and the pod variants judge those.
 */
export function imageBattery(namespace: string, p: ImageBatteryParams): Variant[] {
  const ref = splitImage(p.image);
  if (!ref) throw new Error(`the trusted image ${p.image} is not host/path@sha256:<digest>`);
  const repo = `${ref.host}/${ref.path}`;
  const untrusted: { id: string; image: string; describe: string }[] = [
    { id: 'tag', image: `${repo}:1.0`, describe: `${repo}:1.0 (by tag)` },
    { id: 'other-registry', image: NGINX, describe: 'docker.io/library/nginx by digest (another registry)' },
    { id: 'lookalike', image: `${ref.host}.attacker.example/${ref.path}@${ref.digest}`, describe: `${ref.host}.attacker.example/… (a look-alike registry)` },
    { id: 'short-name', image: `${ref.path.split('/').pop()}@${ref.digest}`, describe: `${ref.path.split('/').pop()}@sha256:… (a short name: docker.io)` },
    ...(p.signed ? [{ id: 'unsigned-digest', image: `${repo}@${OTHER_DIGEST}`, describe: `${repo}@sha256:5d1a0c… (a digest nobody signed)` }] : []),
  ];
  const pod = (name: string, spec: Record<string, unknown>) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: 'image-probe' } },
    spec: { automountServiceAccountToken: false, ...p.podSpec, ...spec },
  });
  const c = (name: string, image: string) => ({ name, image });
  const ok = c('app', p.image);
  const everywhere = (u: { id: string; image: string; describe: string }) => ['tag', 'other-registry'].includes(u.id) || u.id === 'unsigned-digest';
  const out: Variant[] = [];
  for (const u of untrusted) {
    out.push({
      id: `container-${u.id}`,
      describe: `a pod running ${u.describe}`,
      expect: 'rejected',
      outside: u.id === 'tag',
      try: { create: pod(`image-${u.id}`, { containers: [c('app', u.image)] }) },
    });
    if (!everywhere(u)) continue;
    out.push(
      {
        id: `second-container-${u.id}`,
        describe: `a second container running ${u.describe}`,
        expect: 'rejected',
        try: { create: pod(`image-second-${u.id}`, { containers: [ok, c('helper', u.image)] }) },
      },
      {
        id: `init-container-${u.id}`,
        describe: `an init container running ${u.describe}`,
        expect: 'rejected',
        try: { create: pod(`image-init-${u.id}`, { initContainers: [c('setup', u.image)], containers: [ok] }) },
      },
      {
        id: `ephemeral-container-${u.id}`,
        describe: `an ephemeral container (kubectl debug) running ${u.describe}`,
        expect: 'rejected',
        try: { ephemeral: { name: `debug-${u.id}`, image: u.image } },
      },
      {
        id: `update-image-${u.id}`,
        describe: `a running pod's image changed to ${u.describe} (UPDATE)`,
        expect: 'rejected',
        try: {
          update: {
            apiVersion: 'v1',
            kind: 'Pod',
            what: 'a running pod',
            pick: (o) => o.status?.phase === 'Running' && !o.metadata?.deletionTimestamp,
            change: (o) => ({ ...o, spec: { ...o.spec, containers: o.spec.containers.map((x: any, i: number) => (i === 0 ? { ...x, image: u.image } : x)) } }),
          },
        },
      },
    );
  }
  out.push({
    id: 'trusted',
    describe: `a pod running ${p.image.replace(/@sha256:(.{12}).*$/, '@sha256:$1…')} (the trusted image)`,
    expect: 'allowed',
    try: { create: pod('image-trusted', { containers: [ok] }) },
  });
  return out;
}
