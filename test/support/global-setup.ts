/**
 * Runs once before the suite. In CI every database test must run, so a missing PostgreSQL is a
 * failure there rather than a skip.
 */
export default function globalSetup(): void {
  if (process.env.CI === 'true' && !process.env.TEST_DATABASE_URL) {
    throw new Error(
      'CI=true but TEST_DATABASE_URL is not set: the PostgreSQL half of the suite cannot run. ' +
        '.ci/run starts a throwaway cluster and exports it.',
    );
  }
  if (!process.env.TEST_DATABASE_URL) {
    process.stderr.write(
      '\nTEST_DATABASE_URL is not set: tests against a real PostgreSQL are skipped ' +
        '(they run in CI; see README "Tests").\n',
    );
  }
}
