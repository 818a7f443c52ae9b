import type { Lab, LessonSummary } from '../core/lab.js';
import { elapsedFromProgress, timeBox, timeBoxLabel } from '../core/workshop.js';
import { style, symbols } from './style.js';

const out = (s = '') => process.stdout.write(s + '\n');

/** `list` under a workshop: its title, then its lessons in its order, with time box and rules. */
export async function printWorkshopList(lab: Lab, items: LessonSummary[]): Promise<void> {
  const w = lab.workshop!;
  out(`${style.bold(w.title)} ${style.muted(`(workshop ${w.file}: ${items.filter((l) => l.status === 'done').length}/${items.length} done)`)}`);
  if (w.description) out(style.muted(w.description.trim()));
  const idW = Math.max(...items.map((l) => l.id.length));
  items.forEach((l, i) => {
    const wl = w.lessons.find((x) => x.id === l.id)!;
    const mark =
      l.status === 'done'
        ? style.success(symbols.pass)
        : l.status === 'current'
          ? style.accent('▸')
          : l.status === 'unavailable'
            ? style.muted(symbols.skip)
            : ' ';
    const notes = [
      wl.minutes ? `${wl.minutes} min` : '',
      wl.hints.allowed ? '' : 'no hints',
      wl.solutions.allowed ? '' : 'no solutions',
      l.status === 'unavailable' ? 'needs kind' : '',
    ]
      .filter(Boolean)
      .join(', ');
    out(` ${mark} ${String(i + 1).padStart(2)}. ${l.id.padEnd(idW)}  ${l.title}${notes ? style.muted(`  (${notes})`) : ''}`);
  });
}

/** After `start` under a workshop: the time box and what is allowed. */
export async function printWorkshopRules(lab: Lab, id: string): Promise<void> {
  const wl = lab.workshop!.lessons.find((x) => x.id === id);
  if (!wl) return;
  const parts = [
    wl.minutes ? `time box ${wl.minutes} min (a guide, nothing stops)` : '',
    wl.hints.allowed ? '' : 'no hints',
    wl.solutions.allowed ? '' : 'no solutions',
  ].filter(Boolean);
  if (parts.length) out(style.muted(`Workshop "${lab.workshop!.title}": ${parts.join(', ')}.`));
}

/** After a failing `check` under a workshop: how the lesson's time box stands. */
export async function printTimeBox(lab: Lab, id: string): Promise<void> {
  const wl = lab.workshop!.lessons.find((x) => x.id === id);
  if (!wl?.minutes) return;
  const p = (await lab.progress.load()).lessons[id];
  const t = timeBox(wl.minutes, elapsedFromProgress(p, Date.now()));
  out(t.over ? style.warning(`⏱ ${timeBoxLabel(t)}`) : style.muted(`⏱ ${timeBoxLabel(t)}`));
}
