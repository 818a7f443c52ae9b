// dev verify on kind of every lesson that does not restart the control plane, one after another on one
// kind cluster (see lesson-suite.ts): the control-plane lessons run beside it on a cluster of their own,
// with a few others after them (ON_THE_CONTROL_PLANE_CLUSTER, to even out the two).
import { loadCatalogue } from '../../src/core/lessons/loader.js';
import { packageRoot } from '../../src/core/paths.js';
import { kindCluster } from './lessons.js';
import { kindLessonSuite } from './lesson-suite.js';

kindLessonSuite(
  'kindl',
  (await loadCatalogue(packageRoot)).lessons.filter((l) => kindCluster(l) === 'lessons').map((l) => l.id),
);
