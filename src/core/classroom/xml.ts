/**
 * Escaping for XML and HTML output. Everything a learner or a check could have written (names, ids,
 * messages) goes through one of these; characters XML 1.0 forbids (control characters, lone
 * surrogates) are dropped, so the output always parses.
 */

// XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
const INVALID = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
// ANSI colour codes would otherwise leave "[31m" behind once ESC is dropped.
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

export function stripInvalidXml(s: string): string {
  return String(s).replace(ANSI, '').replace(INVALID, '');
}

/** Text content (XML or HTML). */
export function xmlText(s: string): string {
  return stripInvalidXml(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A double- or single-quoted attribute value (XML or HTML); newlines and tabs kept as references. */
export function xmlAttr(s: string): string {
  return xmlText(s).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

/** For HTML: text and attributes alike (the same rules cover both). */
export const html = (s: string | number): string => xmlAttr(String(s));
