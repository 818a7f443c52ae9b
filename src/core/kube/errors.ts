/** Classify errors from @kubernetes/client-node: cluster trouble versus a real answer. */
export interface ApiErrorInfo {
  code?: number;
  message: string;
  reason?: string;
  unreachable: boolean;
}

const NET =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|socket hang up|fetch failed|network|certificate|self.signed|timed out|aborted|UND_ERR/i;

export function apiError(e: unknown): ApiErrorInfo {
  const err = e as { code?: unknown; body?: unknown; message?: string; cause?: { code?: string; message?: string } };
  const code = typeof err?.code === 'number' ? err.code : undefined;
  let body: any = err?.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      /* keep text */
    }
  }
  const message = body && typeof body === 'object' && body.message ? String(body.message) : String(err?.message ?? e);
  const reason = body && typeof body === 'object' ? body.reason : undefined;
  const causeText = `${err?.cause?.code ?? ''} ${err?.cause?.message ?? ''} ${typeof err?.code === 'string' ? err.code : ''}`;
  const unreachable = code === undefined ? NET.test(`${message} ${causeText}`) || !!err?.cause : code === 502 || code === 503 || code === 504;
  return { code, message: message.split('\n')[0], reason, unreachable };
}

export function isNotFound(e: unknown): boolean {
  return apiError(e).code === 404;
}
