// ESLint's settings for logsearch: the security rules of eslint-plugin-security, plus a rule of
// this team's own for the shell sinks the plugin does not know about.
// Run it from the folder you installed kube-seclab in (it brings ESLint and the plugin along):
//   npx eslint <this folder>
'use strict';
const { createRequire } = require('node:module');
const path = require('node:path');

/** A package from next to this file, else from where you run eslint (kube-seclab's node_modules). */
function load(name) {
  for (const from of [__filename, path.join(process.cwd(), 'eslint.config.js'), process.argv[1]]) {
    try { if (from) return createRequire(from)(name); } catch { /* try the next place */ }
  }
  throw new Error(`${name} is not installed here: run eslint from the kube-seclab folder (npx eslint ${__dirname})`);
}
const security = load('eslint-plugin-security');

module.exports = [
  { ignores: ['node_modules/'] },
  { files: ['**/*.js'], languageOptions: { ecmaVersion: 'latest', sourceType: 'commonjs' } },
  security.configs.recommended,
  {
    rules: {
      // findings of these fail the lint (exit code 1), as they would fail a CI pipeline
      'security/detect-child-process': 'error',
      'security/detect-eval-with-expression': 'error',
      'no-restricted-syntax': ['error',
        { selector: "CallExpression[callee.name='execSync'], CallExpression[callee.property.name='execSync']", message: 'execSync runs its command line through a shell: use execFile with an argument array' },
        { selector: "Property[key.name='shell'][value.value=true]", message: 'shell: true runs the command through a shell: leave it out and pass the arguments as an array' },
        { selector: "CallExpression[arguments.0.value=/(^|[^a-z])(sh|bash|dash)$/]", message: 'this starts a shell with a command line: run the program itself with an argument array' },
      ],
    },
  },
];
