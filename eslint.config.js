// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Import direction (STYLE.md): domain <- store/connectors <- services <- server/cli/jobs. */
const forbid = (...folders) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: folders.map((folder) => ({
        group: [`**/${folder}/*`, `../${folder}/*`, `./${folder}/*`],
        message: `This layer must not import from src/${folder} (see docs/ARCHITECTURE.md).`,
      })),
    },
  ],
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'web/dist/**', 'test-results/**', 'bench/results/**', '.lanes/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  { files: ['src/domain/**/*.ts'], rules: forbid('store', 'services', 'server', 'cli', 'jobs', 'connectors', 'api') },
  { files: ['src/store/**/*.ts', 'src/connectors/**/*.ts'], rules: forbid('services', 'server', 'cli', 'jobs') },
  { files: ['src/services/**/*.ts'], rules: forbid('server', 'cli', 'jobs') },
  { files: ['src/api/**/*.ts'], rules: forbid('store', 'services', 'server', 'cli', 'jobs', 'connectors') },
);
