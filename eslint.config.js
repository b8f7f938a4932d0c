// Lint enforces what review would miss: floating promises, explicit return types on exported
// functions, type-only imports, exhaustive switches.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** For each folder, the modules above it that it must not import, and the composition files. */
function boundaries(rules) {
  return rules.map(([files, above]) => ({
    files: [files],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: `^(\\.\\./)+(${above.join('|')})/`, message: 'Dependencies point one way: this module may not import a module above it (see ARCHITECTURE.md).' },
            { regex: '^(\\.\\./)+(app|main|demo)\\.js$', allowTypeImports: true, message: 'Only main.ts and tests import the composition root; modules may import its types.' },
          ],
        },
      ],
    },
  }));
}

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'coverage/', 'screenshots/', '.scratch/', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/explicit-module-boundary-types': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
    },
  },
  // Dependencies point one way (ARCHITECTURE.md): core ← web ← fhir ← structure ← synthetic ← access ← record ← governance ← finance.
  // A module may use the AppContext type from app.ts, but never import app.ts, main.ts or demo.ts.
  ...boundaries([
    ['src/core/**/*.ts', ['web', 'fhir', 'structure', 'synthetic', 'access', 'record', 'governance', 'finance', 'cli']],
    ['src/web/**/*.ts', ['fhir', 'structure', 'synthetic', 'access', 'record', 'governance', 'finance', 'cli']],
    ['src/fhir/**/*.ts', ['structure', 'synthetic', 'access', 'record', 'governance', 'finance', 'cli']],
    ['src/structure/**/*.ts', ['synthetic', 'access', 'record', 'governance', 'finance', 'cli']],
    ['src/synthetic/**/*.ts', ['access', 'record', 'governance', 'finance', 'cli']],
    ['src/access/**/*.ts', ['record', 'governance', 'finance', 'cli']],
    ['src/record/**/*.ts', ['governance', 'finance', 'cli']],
    ['src/governance/**/*.ts', ['finance', 'cli']],
    ['src/finance/**/*.ts', ['cli']],
  ]),
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/explicit-module-boundary-types': 'off' },
  },
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
