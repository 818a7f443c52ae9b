// dev verify on kind, group 2 of 2 of the lessons that do not restart the control plane (see lesson-suite.ts, lessons.ts kindShard).
import { loadCatalogue } from '../../src/core/lessons/loader.js';
import { packageRoot } from '../../src/core/paths.js';
import { kindShard } from './lessons.js';
import { kindLessonSuite } from './lesson-suite.js';

kindLessonSuite('kindl2', kindShard((await loadCatalogue(packageRoot)).lessons, 2, 1));
