import { getMetadataStorage, type MetadataStorage } from 'class-validator';
import { envDocsOf } from '../config/env-doc.js';
import { EnvSchema } from '../config/env.schema.js';

type ValidationMetadata = ReturnType<MetadataStorage['getTargetValidationMetadatas']>[number];

const INTRO = `# Configuration

<!-- Generated from src/config/env.schema.ts and service-env.schema.ts by npm run docs:generate; edit the @Doc there, not this file. -->

Environment variables, validated once at boot: a bad value stops the start with a message naming
each bad variable. An empty value counts as unset (the default applies). \`.env.example\` lists
them with their defaults. "accepts" is what the validation allows; anything else is refused.
`;

const OUTRO = `
Read outside this schema, by tests only: \`FAULT_CRASH_AT=<fault point>\` kills the process at that
point, honoured only when \`NODE_ENV=test\` (see [testing.md](testing.md)); the test suite's and the
bench's own variables (\`TEST_DATABASE_URL\`, \`TEST_REDIS_URL\`, \`CHROMIUM_PATH\`, \`BENCH_*\`, …)
are in [testing.md](testing.md) and [bench/README.md](../bench/README.md).
`;

/** What a variable's validation decorators allow, in words. */
function accepts(rules: ValidationMetadata[]): string {
  const rule = (name: string): unknown[] | undefined =>
    rules.find((r) => r.name === name)?.constraints;
  const isIn = rule('isIn')?.[0] as string[] | undefined;
  if (isIn) return isIn.map((v) => `\`${v}\``).join(', ');
  const min = rule('min')?.[0] as number | undefined;
  const max = rule('max')?.[0] as number | undefined;
  if (rules.some((r) => r.name === 'isInt')) {
    if (min !== undefined && max !== undefined) return `integer ${min}..${max}`;
    return min !== undefined ? `integer ≥ ${min}` : 'integer';
  }
  const matches = rules.find((r) => r.name === 'matches');
  if (matches && typeof matches.message === 'string')
    return matches.message.replace(/^must be /, '').replace(/ \(required when .*\)$/, '');
  if (rules.some((r) => r.name === 'isEmail')) return 'an email address';
  const minLength = rule('minLength')?.[0] as number | undefined;
  const maxLength = rule('maxLength')?.[0] as number | undefined;
  if (minLength !== undefined && maxLength !== undefined)
    return `${minLength}..${maxLength} characters`;
  if (minLength !== undefined && minLength > 1) return `at least ${minLength} characters`;
  return 'any text';
}

const cell = (text: string): string => text.replace(/\|/g, '\\|');
const width = (text: string): number => [...text].length;

/** A markdown table laid out the way Prettier lays it out, so the file passes `prettier --check`. */
function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows].map((r) => r.map(cell));
  const widths = header.map((_, i) => Math.max(3, ...all.map((r) => width(r[i]))));
  const line = (r: string[]): string =>
    `| ${r.map((c, i) => c + ' '.repeat(widths[i] - width(c))).join(' | ')} |`;
  return [line(all[0]), line(widths.map((w) => '-'.repeat(w))), ...all.slice(1).map(line)].join(
    '\n',
  );
}

/**
 * docs/configuration.md: one row per variable EnvSchema validates, from its @Doc and its
 * validation decorators. Throws when a validated variable has no @Doc (or a @Doc no validation).
 */
export function buildConfigurationDocument(): string {
  const rules = getMetadataStorage().getTargetValidationMetadatas(EnvSchema, '', true, false);
  const validated = new Set(rules.map((r) => r.propertyName));
  const docs = envDocsOf(EnvSchema);
  const documented = new Set(docs.map((d) => d.variable));
  const undocumented = [...validated].filter((v) => !documented.has(v));
  const unvalidated = [...documented].filter((v) => !validated.has(v));
  if (undocumented.length > 0 || unvalidated.length > 0)
    throw new Error(
      `EnvSchema: without @Doc: ${undocumented.join(', ') || '-'}; ` +
        `@Doc without validation: ${unvalidated.join(', ') || '-'}`,
    );
  const defaults = new EnvSchema() as unknown as Record<string, string | number | undefined>;
  const rows = docs.map((d) => {
    const value = defaults[d.variable];
    const fallback = value === undefined ? 'unset' : `\`${value}\``;
    const own = rules.filter((r) => r.propertyName === d.variable);
    return [`\`${d.variable}\``, d.defaultText ?? fallback, accepts(own), d.meaning];
  });
  return `${INTRO}\n${table(['variable', 'default', 'accepts', 'meaning'], rows)}\n${OUTRO}`;
}
