import { z } from 'zod';
import type { CheckOutcome } from './types.js';

/** What a command's run must show after the fix (probe, podExec): the exploit fails, a blocked connection times out… */
export const runExpectSchema = z
  .object({
    exitCode: z.number().int().optional(),
    nonZeroExit: z.boolean().optional(),
    outputContains: z.string().optional(),
    outputNotContains: z.string().optional(),
  })
  .strict();
export type RunExpect = z.infer<typeof runExpectSchema>;

/** Judge a finished run; messages start with `what` and quote the output's last line. */
export function judgeRun(what: string, exitCode: number, output: string, e: RunExpect): CheckOutcome {
  const out = output.trim();
  const last = out ? ` — ${out.split('\n').pop()!.slice(0, 200)}` : '';
  const fail = (why: string) => ({ passed: false, message: `${what}: ${why}` });
  if (e.exitCode !== undefined && exitCode !== e.exitCode) return fail(`exited ${exitCode}, expected ${e.exitCode}${last}`);
  if (e.nonZeroExit && exitCode === 0) return fail(`still succeeds${last}`);
  if (e.outputContains && !out.includes(e.outputContains)) return fail(`output lacks "${e.outputContains}"${last}`);
  if (e.outputNotContains && out.includes(e.outputNotContains)) return fail(`output still shows "${e.outputNotContains}"`);
  return { passed: true, message: `${what}: exit ${exitCode}${last}` };
}
