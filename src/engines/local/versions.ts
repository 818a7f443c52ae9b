/**
 * The pinned versions of the binaries the local engine runs. Keep in sync with tools/versions.env
 * (tools/build-k8s.sh reads that file; test/unit/versions.test.ts checks that the two agree).
 */
export const K8S_VERSION = 'v1.36.3';
export const ETCD_VERSION = 'v3.6.16';
export const KWOK_VERSION = 'v0.8.0';

/** What `<cache>/bin/<K8S_VERSION>/.versions` holds once a complete set is there (build or download). */
export const VERSIONS_STAMP = `${K8S_VERSION} ${ETCD_VERSION} ${KWOK_VERSION}`;

/** Binaries the local engine cannot run without. */
export const REQUIRED_BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const;

/** Binaries that are used when present (kubectl for the learner's shell, etcdctl for the etcd lessons). */
export const OPTIONAL_BINARIES = ['kubectl', 'etcdctl'] as const;

export type RequiredBinary = (typeof REQUIRED_BINARIES)[number];
export type OptionalBinary = (typeof OPTIONAL_BINARIES)[number];
export type BinaryName = RequiredBinary | OptionalBinary;
