/**
 * Runs once before the suite. In CI every test must run, so a missing PostgreSQL or Redis is a
 * failure there rather than a skip.
 */
const NEEDED = [
  ['TEST_DATABASE_URL', 'tests against a real PostgreSQL', 'a throwaway cluster'],
  ['TEST_REDIS_URL', 'tests of two nodes on Redis', 'a throwaway redis-server'],
] as const;

export default function globalSetup(): void {
  for (const [name, what, how] of NEEDED) {
    if (process.env[name]) continue;
    if (process.env.CI === 'true')
      throw new Error(
        `CI=true but ${name} is not set: the ${what} cannot run. .ci/run starts ${how} and exports it.`,
      );
    process.stderr.write(
      `\n${name} is not set: ${what} are skipped (they run in CI; see README "Tests").\n`,
    );
  }
}
