import 'reflect-metadata';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from './app.factory.js';
import { packageRoot } from './common/package-root.js';
import { loadConfig } from './config/config.loader.js';
import { buildAsyncApiDocument } from './docs/asyncapi.js';
import { buildConfigurationDocument } from './docs/configuration.js';
import { buildOpenApiDocument } from './docs/openapi.js';

/** The committed documents and what the code generates now, as the JSON text written to disk. */
export async function generatedDocuments(): Promise<{ file: string; text: string }[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'docs-gen-'));
  const app = await createApp(
    loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATA_DIR: dataDir,
      JWT_SECRET: 'docs-generation-only-'.repeat(2),
    }),
  );
  try {
    return [
      {
        file: 'docs/openapi.json',
        text: JSON.stringify(buildOpenApiDocument(app), null, 2) + '\n',
      },
      { file: 'docs/asyncapi.json', text: JSON.stringify(buildAsyncApiDocument(), null, 2) + '\n' },
      { file: 'docs/configuration.md', text: buildConfigurationDocument() },
    ];
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * `generate-docs.cli.js` writes docs/openapi.json, docs/asyncapi.json and docs/configuration.md;
 * `--check` only compares.
 */
async function main(check: boolean): Promise<void> {
  const root = packageRoot();
  let drift = false;
  for (const { file, text } of await generatedDocuments()) {
    const path = join(root, file);
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      // missing counts as drift
    }
    if (current === text) continue;
    drift = true;
    if (check)
      process.stderr.write(
        `${file} differs from what the code generates; run npm run docs:generate\n`,
      );
    else writeFileSync(path, text);
  }
  if (check && drift) process.exit(1);
  process.stdout.write(drift && !check ? 'documents written\n' : 'documents up to date\n');
}

if (process.argv[1]?.endsWith('generate-docs.cli.js')) {
  main(process.argv.includes('--check')).catch((err: unknown) => {
    process.stderr.write(String(err) + '\n');
    process.exit(1);
  });
}
