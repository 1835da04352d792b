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
].map((name) => ({
  name,
  message: 'workflows/ and domain/ must stay deterministic: do I/O in an activity',
  allowTypeImports: true,
}));

/**
 * What may import what across the project's folders: an import that crosses a
 * forbidden line, written as a relative path from anywhere in the folder.
 */
const importOf = (folders, message) => ({ regex: `^(\\.\\.?/)+(${folders.join('|')})(/|$)`, message });
// domain/ is pure: it imports nothing of the project's outside domain/ (its files are flat, so `../` leaves it).
const outsideDomain = {
  regex: '^\\.\\./',
  message: 'domain/ imports only domain/: pure types and decisions, no other layer',
};
const intoAdaptersFromApi = importOf(
  ['activities', 'providers'],
  'api/ never imports activities/ or providers/: it calls db/ and Temporal; the worker acts on the fleet',
);
// cli/ is a client of the API: the API's schemas (types only) and domain/, nothing of the server.
const intoServerFromCli = [
  importOf(
    ['db', 'activities', 'providers', 'workflows', 'workers', 'config', 'policies', 'scripts'],
    'cli/ talks to the API over HTTP only: it may import api/schemas types and domain/, never the server side',
  ),
  {
    regex: '^(\\.\\./)+api/(?!schemas$)',
    message: 'cli/ imports only api/schemas (types) of api/: it calls the API over HTTP',
  },
  { regex: '^(\\.\\./)+api/schemas$', allowTypeImports: true, message: 'cli/ imports api/schemas as types only' },
];
const intoCallersFromProviders = importOf(
  ['activities', 'workflows', 'api', 'workers'],
  'providers/ are vendor adapters: they may not import activities/, workflows/, api/ or workers/ (workers/composition.ts builds them)',
);

// SQL lives in db/ (one module per table or aggregate) and migrations/, nowhere
// else. Two checks: a `.query(...)` call on a node-postgres pool or client (by
// its type, so a Temporal workflow query is not caught), and a string that
// starts an SQL statement (which catches SQL handed to any other client).
// test/ is exempt: it is the outside observer, setting scenes and checking
// results in the database directly.
const SQL_STATEMENT =
  /^\s*(SELECT\s|INSERT\s+INTO\s|UPDATE\s+\S+\s+SET\s|DELETE\s+FROM\s|WITH\s+\S+\s+AS\s*\(|CREATE\s+(OR\s+REPLACE\s+|UNIQUE\s+)?(TABLE|DATABASE|INDEX|FUNCTION|TRIGGER|VIEW|ROLE|EXTENSION)\s|ALTER\s+(TABLE|DATABASE|ROLE)\s|DROP\s+(TABLE|DATABASE|INDEX|FUNCTION|VIEW)\s|TRUNCATE\s|GRANT\s|LOCK\s+TABLE\s)/;
const SQL_ONLY_IN_DB =
  'SQL belongs in db/ (a named function in the module of its table) or migrations/; call that function instead. test/ may query directly.';
const fromPg = (decl) => /[\\/]node_modules[\\/](@types[\\/])?pg[\\/]/.test(decl.getSourceFile().fileName);
const sqlOnlyInDb = {
  meta: { type: 'problem', schema: [], messages: { sql: SQL_ONLY_IN_DB + ' ({{what}})' } },
  create(context) {
    const services = context.sourceCode.parserServices;
    const checker = services?.program?.getTypeChecker();
    const report = (node, what) => context.report({ node, messageId: 'sql', data: { what } });
    const checkText = (node, text) => {
      if (SQL_STATEMENT.test(text)) report(node, `SQL text "${text.trim().split(/\s+/).slice(0, 3).join(' ')} ..."`);
    };
    return {
      Literal(node) {
        if (typeof node.value === 'string') checkText(node, node.value);
      },
      TemplateLiteral(node) {
        checkText(node, node.quasis.map((q) => q.value.cooked ?? q.value.raw).join('${}'));
      },
      'CallExpression > MemberExpression.callee[property.name="query"]'(node) {
        if (!checker) return;
        const member = services.esTreeNodeToTSNodeMap.get(node);
        const symbol = checker.getSymbolAtLocation(member.name);
        if (symbol?.declarations?.some(fromPg)) report(node, 'a node-postgres query');
      },
    };
  },
};

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.tools/**',
      '.data/**',
      'coverage/**',
      'eslint.config.mjs',
      'jest.config.js',
    ],
  },
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
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths: forbiddenInWorkflows, patterns: [outsideDomain] }],
    },
  },
  {
    files: ['api/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [intoAdaptersFromApi] }] },
  },
  {
    files: ['cli/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: intoServerFromCli }] },
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
  {
    files: ['**/*.ts'],
    ignores: ['db/**', 'test/**'],
    plugins: { shipshape: { rules: { 'sql-only-in-db': sqlOnlyInDb } } },
    rules: { 'shipshape/sql-only-in-db': 'error' },
  },
);
