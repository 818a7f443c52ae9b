import type { AttackStepKind } from './types.js';
import { token } from './steps/token.js';
import { api } from './steps/api.js';
import { etcdRead, etcdConnect } from './steps/etcd.js';
import { admission } from './steps/admission.js';
import { pod, exec } from './steps/pod.js';
import { debug } from './steps/debug.js';
import { imageScan } from './steps/imageScan.js';
import { app } from './steps/app.js';
import { auditTrail } from './steps/auditTrail.js';
import { exposure } from './steps/exposure.js';
import { imageLayers } from './steps/imageLayers.js';

/** Every attack step kind, by the key an attack.yaml step uses. Adding one = a module + a line here. */
export const ATTACK_STEPS: Record<string, AttackStepKind> = Object.fromEntries(
  [token, api, etcdRead, etcdConnect, admission, pod, exec, debug, imageScan, auditTrail, exposure, app, imageLayers].map((k) => [k.type, k as AttackStepKind]),
);
