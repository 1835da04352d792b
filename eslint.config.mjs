import { builtinModules } from 'node:module';
import js from '@eslint/js';
import importPlugin from 'eslint-plugin-import';
import tseslint from 'typescript-eslint';

// Workflow code must be deterministic: no Node built-ins, no I/O libraries, no
// activity context. Type-only imports (e.g. of activity signatures) are fine.
const forbiddenInWorkflows = [
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
  'pg',
  'express',
  'pino',
  '@temporalio/activity',
  '@temporalio/client',
  '@temporalio/worker',
].map((name) => ({ name, message: 'workflows/ and domain/ must stay deterministic: do I/O in an activity', allowTypeImports: true }));

/**
 * What may import what across the project's folders: an import that crosses a
 * forbidden line, written as a relative path from anywhere in the folder.
 */
const importOf = (folders, message) => ({ regex: `^(\\.\\.?/)+(${folders.join('|')})(/|$)`, message });
// domain/ is pure: it imports nothing of the project's outside domain/ (its files are flat, so `../` leaves it).
const outsideDomain = { regex: '^\\.\\./', message: 'domain/ imports only domain/: pure types and decisions, no other layer' };
const intoAdaptersFromApi = importOf(['activities', 'providers'], 'api/ never imports activities/ or providers/: it calls db/ and Temporal; the worker acts on the fleet');
const intoCallersFromProviders = importOf(
  ['activities', 'workflows', 'api', 'workers'],
  'providers/ are vendor adapters: they may not import activities/, workflows/, api/ or workers/ (workers/composition.ts builds them)',
);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', '.data/**', 'coverage/**', 'eslint.config.mjs', 'jest.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { import: importPlugin },
    settings: { 'import/resolver': { node: { extensions: ['.ts', '.js'] } } },
    rules: {
      eqeqeq: ['error', 'always'],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'import/no-cycle': 'error',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths: forbiddenInWorkflows }] },
  },
  {
    files: ['domain/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths: forbiddenInWorkflows, patterns: [outsideDomain] }] },
  },
  {
    files: ['api/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [intoAdaptersFromApi] }] },
  },
  {
    files: ['providers/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [intoCallersFromProviders] }] },
  },
  {
    // Tests read JSON bodies of the API they drive; typing every body adds nothing there.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
