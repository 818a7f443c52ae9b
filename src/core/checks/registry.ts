import type { CheckPrimitive } from './types.js';
import { rbac } from './rbac.js';
import { admission } from './admission.js';
import { object, objects } from './object.js';
import { workload } from './workload.js';
import { podSecurity } from './podSecurity.js';
import { networkConnection, networkIsolation, networkReach } from './networkPolicy.js';
import { etcdEncrypted } from './etcd.js';
import { controlPlaneFlag, encryptionConfig, nodeFile } from './controlPlane.js';
import { unauthenticated } from './unauthenticated.js';
import { probe } from './probe.js';
import { listening } from './listening.js';
import { etcdClientAuth } from './etcdClientAuth.js';
import { plaintextSecrets } from './plaintextSecrets.js';
import { auditEvent } from './auditEvent.js';
import { kindClusterConfig } from './kindClusterConfig.js';
import { kubeletConfigz } from './kubeletConfigz.js';
import { podExec } from './podExec.js';
import { deployedBuild } from './deployedBuild.js';
import { validatingWebhook } from './validatingWebhook.js';
import { imageSignature } from './imageSignature.js';
import { sast } from './sast.js';
import { appProbe } from './appProbe.js';
import { imageLayers } from './imageLayers.js';
import { buildContext } from './buildContext.js';
import { scan } from './scan.js';
import { sbom } from './sbom.js';
import { permissions } from './permissions.js';
import { secretValues } from './secretValues.js';
import { secretDelivery } from './secretDelivery.js';
import { credentialRotated } from './credentialRotated.js';
import { containerStart } from './containerStart.js';
import { podTokens } from './podTokens.js';
import { secretRotated } from './secretRotated.js';
import { admissionVariants } from './admissionVariants.js';
import { podSecurityEnforced } from './podSecurityEnforced.js';
import { podHardening } from './podHardening.js';
import { attack } from './attack.js';

/** Every check primitive, by the key a lesson.yaml check uses. Adding one = a file + a line here. */
export const PRIMITIVES: Record<string, CheckPrimitive> = Object.fromEntries(
  [
    rbac,
    admission,
    object,
    objects,
    workload,
    podSecurity,
    networkConnection,
    networkIsolation,
    networkReach,
    etcdEncrypted,
    controlPlaneFlag,
    nodeFile,
    encryptionConfig,
    unauthenticated,
    probe,
    listening,
    etcdClientAuth,
    plaintextSecrets,
    auditEvent,
    kindClusterConfig,
    kubeletConfigz,
    podExec,
    deployedBuild,
    validatingWebhook,
    imageSignature,
    sast,
    appProbe,
    imageLayers,
    buildContext,
    scan,
    sbom,
    permissions,
    secretValues,
    secretDelivery,
    credentialRotated,
    containerStart,
    podTokens,
    secretRotated,
    admissionVariants,
    podSecurityEnforced,
    podHardening,
    attack,
  ].map((p) => [p.type, p as CheckPrimitive]),
);
