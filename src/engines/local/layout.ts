import { join } from 'node:path';
import type { Component } from '../../core/engine/index.js';
import type { Ports } from './manifests.js';

/** engine.json: written once when the local cluster is created. */
export interface LocalEngineConfig {
  version: 1;
  labId: string;
  binDir: string;
  ports: Ports;
  createdAt: string;
}

export type ComponentName = Component | 'kwok';

/** The API server's own clients: the supervisor starts them afresh after it restarts the API server (or etcd). */
export const API_CLIENTS = ['kube-controller-manager', 'kube-scheduler', 'kwok'] as const satisfies readonly ComponentName[];
export type ComponentPhase = 'starting' | 'running' | 'crashloop' | 'invalid' | 'stopped' | 'waiting';

export interface ComponentState {
  phase: ComponentPhase;
  pid?: number;
  healthy: boolean;
  restarts: number;
  startedAt?: string;
  lastExit?: { code: number | null; signal: string | null; at: string };
  /** One line: why it is not running or not healthy. */
  error?: string;
  warnings: string[];
  /** sha256 of the manifest the running process was started from. */
  manifestHash?: string;
}

/** state.json: rewritten atomically by the supervisor on every change. */
export interface SupervisorState {
  supervisorPid: number;
  startedAt: string;
  updatedAt: string;
  stopping?: boolean;
  components: Record<ComponentName, ComponentState>;
}

/** Where everything of the local engine lives under its directory. */
export function localLayout(dir: string) {
  const node = join(dir, 'node');
  return {
    dir,
    config: join(dir, 'engine.json'),
    state: join(dir, 'state.json'),
    logs: join(dir, 'logs'),
    supervisorLog: join(dir, 'logs', 'supervisor.log'),
    /** The control-plane "node": this folder stands for its / (so /etc/kubernetes is node/etc/kubernetes). */
    node,
    manifests: join(node, 'etc', 'kubernetes', 'manifests'),
    pki: join(node, 'etc', 'kubernetes', 'pki'),
    kubeconfigs: join(node, 'etc', 'kubernetes'),
    /** Pristine manifests from creation: what a lesson reset restores. */
    baseline: join(dir, 'baseline'),
    /** The last manifest of each component that ran healthy. */
    lastGood: join(dir, 'last-good'),
    kwokConfig: join(dir, 'kwok.yaml'),
    manifest: (c: Component) => join(node, 'etc', 'kubernetes', 'manifests', `${c}.yaml`),
  };
}
export type LocalLayout = ReturnType<typeof localLayout>;
