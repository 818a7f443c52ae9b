import type { Lesson } from '../../src/core/lessons/loader.js';

/** A lesson whose set-up or reset restarts the API server, etcd or the kubelet (minutes on kind, and the API goes away meanwhile). */
export function restartsTheControlPlane(l: Lesson): boolean {
  return l.reset.controlPlane.length > 0 || l.reset.kubelet;
}
