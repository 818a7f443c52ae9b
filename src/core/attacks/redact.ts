/**
 * A secret value as an attack transcript shows it: its first characters and its length — enough to
 * recognise it, never enough to use it. Short values show less.
 */
export function redact(value: string): string {
  const v = value.replace(/\s+$/, '');
  const shown = v.length >= 16 ? 4 : v.length >= 8 ? 2 : 0;
  return `${v.slice(0, shown)}… (${v.length} chars)`;
}

/** Evidence as one printable string: `label: value`, secret values redacted. */
export function showEvidence(e: { label: string; value: string; secret?: boolean }): string {
  const v = e.secret ? redact(e.value) : e.value.length > 200 ? `${e.value.slice(0, 199)}…` : e.value;
  return e.label ? `${e.label}: ${v}` : v;
}
