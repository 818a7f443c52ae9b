import { main } from './supervisor.js';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: supervisor-main <engine dir>\n');
  process.exit(2);
}
main(dir).catch((e) => {
  process.stderr.write(`kube-seclab supervisor: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
