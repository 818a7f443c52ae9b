// dev verify on kind of every lesson that does not restart the control plane, one after another on one
// kind cluster (see lesson-suite.ts): the control-plane lessons run beside it on a cluster of their own.
import { loadCatalogue } from '../../src/core/lessons/loader.js';
import { packageRoot } from '../../src/core/paths.js';
import { restartsTheControlPlane } from './lessons.js';
import { kindLessonSuite } from './lesson-suite.js';

kindLessonSuite(
  'kindl',
  (await loadCatalogue(packageRoot)).lessons.filter((l) => !restartsTheControlPlane(l)).map((l) => l.id),
);
