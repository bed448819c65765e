/** Jest runs the TypeScript sources as native ES modules (see DESIGN.md, toolchain facts). */
const config = {
  testEnvironment: 'node',
  // The workspace packages (@hitl/contracts, @hitl/sdk) resolve to their TypeScript sources, as in
  // tsconfig.json, so the tests need no package build first.
  testEnvironmentOptions: { customExportConditions: ['@hitl/source', 'node', 'node-addons'] },
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testMatch: [
    '<rootDir>/src/**/*.spec.ts',
    '<rootDir>/client/**/*.spec.ts',
    '<rootDir>/test/**/*.e2e-spec.ts',
  ],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60000,
  maxWorkers: 2,
};
export default config;
