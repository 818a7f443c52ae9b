import type { TaskReporter } from '../core/engine/index.js';
import { style, symbols } from './style.js';

/** Long work as lines on stderr: "✓ Start the control plane  1.2s". */
export function lineReporter(stream: NodeJS.WriteStream = process.stderr): TaskReporter {
  return {
    // A warning (a shared cluster: the lab writes into someone else's cluster) stands out; notes are muted.
    info: (m) => stream.write(`${m.startsWith('WARNING:') ? style.warning(`! ${m}`, stream) : style.muted(`${symbols.bullet} ${m}`, stream)}\n`),
    async task(title, fn) {
      const t0 = performance.now();
      if (stream.isTTY) stream.write(`${style.muted('…', stream)} ${title}\r`);
      try {
        const r = await fn((detail) => {
          if (stream.isTTY) stream.write(`\x1b[2K${style.muted('…', stream)} ${title} ${style.muted(detail.slice(0, 60), stream)}\r`);
        });
        stream.write(
          `\x1b[2K${style.success(symbols.pass, stream)} ${title} ${style.muted(`${((performance.now() - t0) / 1000).toFixed(1)}s`, stream)}\n`.replace(
            stream.isTTY ? '' : '\x1b[2K',
            '',
          ),
        );
        return r;
      } catch (e) {
        stream.write(`${stream.isTTY ? '\x1b[2K' : ''}${style.error(symbols.fail, stream)} ${title}\n`);
        throw e;
      }
    },
  };
}
