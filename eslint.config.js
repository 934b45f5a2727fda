import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'run/**', 'data/**', '**/dist/**', '**/*.bundle.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // The isomorphic packages must run in a browser: no Node built-ins.
    files: ['packages/{xml,jid,protocol,client,jingle,console}/src/**/*.ts'],
    ignores: ['**/*.test.ts', 'packages/client/src/transport/tcp.ts', 'packages/client/src/transport/node-*.ts', 'packages/jingle/src/**/node-*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*'], message: 'isomorphic package: no Node built-ins' }, { group: ['@switchboard/server', '@switchboard/server/*'], message: 'no server code here' }] }],
    },
  },
  {
    // c2s and sm meet only through the router (DEVELOPERS.md §1).
    files: ['packages/server/src/c2s/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/sm/**', '../sm/*'], message: 'c2s talks to the sm only through the router' }] }] },
  },
  {
    files: ['packages/server/src/sm/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/c2s/**', '../c2s/*'], message: 'the sm talks to c2s only through the router' },
            { group: ['**/muc/**', '../muc/*', '**/service/**', '../service/*'], message: 'the sm reaches services (MUC…) only through the router, by domain' },
          ],
        },
      ],
    },
  },
  {
    // Services are components on the router: they know the envelope and the storage ports, not the sm or c2s.
    files: ['packages/server/src/{muc,service}/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/sm/**', '../sm/*', '**/c2s/**', '../c2s/*'], message: 'a service talks to the sm and c2s only through the router' }] }],
    },
  },
);
