/** Terminal styling for the plain CLI, as semantic roles; NO_COLOR and non-TTY output get none. */
const useColor = (stream: NodeJS.WriteStream) => (!process.env.NO_COLOR && process.env.TERM !== 'dumb' && !!stream.isTTY) || process.env.FORCE_COLOR === '1';
const wrap =
  (open: number, close: number) =>
  (s: string, stream: NodeJS.WriteStream = process.stdout) =>
    useColor(stream) ? `\x1b[${open}m${s}\x1b[${close}m` : s;
export const style = {
  success: wrap(32, 39),
  error: wrap(31, 39),
  warning: wrap(33, 39),
  accent: wrap(36, 39),
  muted: wrap(2, 22),
  bold: wrap(1, 22),
};
export const symbols = { pass: '✓', fail: '✗', skip: '–', unreachable: '?', bullet: '•', arrow: '→' };
