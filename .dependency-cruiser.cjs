/**
 * Architecture rules `npm run lint` checks (dependency-cruiser). docs/architecture.md explains
 * the layers; change both together.
 */
const TRANSPORT = '^src/(chat|admin|streams|web|docs|health)/';
const DOMAIN =
  '^src/(common|config|database|history|cluster|quotas|users|auth|reminders|inbox|runs|sessions|agent|observability|retention|webhooks)/';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles between files.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycles',
      comment: 'No import cycles between folders: each folder depends on the ones below it.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'contracts-stand-alone',
      comment:
        'src/contracts is a package of its own (@hitl/contracts): it imports nothing of ours.',
      severity: 'error',
      from: { path: '^src/contracts/' },
      to: { path: '^(src|client|test|bench)/', pathNot: '^src/contracts/' },
    },
    {
      name: 'engine-not-agent-or-transport',
      comment:
        'runs/ is the run engine: it reaches the agent only through RUN_EXECUTOR (run-executor.ts).',
      severity: 'error',
      from: { path: '^src/runs/' },
      to: { path: '^src/(agent|chat)/' },
    },
    {
      name: 'domain-not-transport',
      comment: 'Domain folders do not import transport folders (socket, admin REST, SSE, pages).',
      severity: 'error',
      from: { path: DOMAIN },
      to: { path: TRANSPORT },
    },
    {
      name: 'no-orphans',
      comment: 'Every source file is reachable from an entry point or a test.',
      severity: 'error',
      from: {
        orphan: true,
        pathNot: ['\\.d\\.ts$', '(^|/)tsconfig\\.json$'],
      },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Unit specs may use test/support (the engine's service tests do); they are not layers.
    exclude: { path: ['(^|/)dist/', '\\.spec\\.ts$'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
