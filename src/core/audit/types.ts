/**
 * One thing an auditor reported: a check's verdict on an object (kube-score) or on the cluster
 * (kube-bench). Passing verdicts are kept too (`raised: false`): a declared `clear` needs the
 * auditor to have judged the check and found nothing, not merely to be quiet about it.
 */
export interface AuditFinding {
  tool: 'kube-score' | 'kube-bench';
  /** kube-score check id (container-security-context-privileged) or CIS id (1.2.17). */
  id: string;
  /** kube-score: "Deployment gallery/thumbnailer"; kube-bench policies checks: the namespace an offending line names. */
  object?: string;
  /** kube-score: CRITICAL / WARNING / OK. kube-bench: FAIL, WARN (a failed test of an unscored check, or a manual one), PASS, INFO. */
  status: 'CRITICAL' | 'WARNING' | 'OK' | 'FAIL' | 'WARN' | 'PASS' | 'INFO';
  /** kube-bench: the check says nothing by itself (type manual): WARN always. */
  manual?: boolean;
  /**
   * It says "this is wrong": every kube-score finding; kube-bench FAIL, or WARN of an automated check
   * (an unscored check that failed) — not PASS, INFO, a manual check, nor a multi-object policies
   * check that named no offending object (kube-bench WARNs when such a check printed nothing).
   */
  raised: boolean;
  detail: string;
}
