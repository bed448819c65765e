import { readFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';
import { getMetadataStorage } from 'class-validator';
import { EnvSchema } from '../src/config/env.schema.js';
import { generatedDocuments } from '../src/generate-docs.cli.js';
import { buildAsyncApiDocument } from '../src/docs/asyncapi.js';
import { EVENT_TYPES } from '../src/contracts/events.js';
import { CLIENT_EVENTS } from '../src/contracts/socket.js';
import { useTestApp } from './support/use-test-app.js';

describe('API documents', () => {
  const t = useTestApp('pglite');

  it('the committed docs/openapi.json, docs/asyncapi.json and docs/configuration.md match what the code generates', async () => {
    for (const { file, text } of await generatedDocuments()) {
      expect({ file, text: readFileSync(file, 'utf8') }).toEqual({ file, text });
    }
  });

  it('docs/configuration.md and .env.example name every variable the env schema accepts', () => {
    const rules = getMetadataStorage().getTargetValidationMetadatas(EnvSchema, '', true, false);
    const variables = [...new Set(rules.map((r) => r.propertyName))];
    expect(variables.length).toBeGreaterThanOrEqual(48);
    const page = readFileSync('docs/configuration.md', 'utf8');
    const example = readFileSync('.env.example', 'utf8');
    for (const v of variables) {
      expect({ v, row: page.includes(`| \`${v}\``) }).toEqual({ v, row: true });
      expect({ v, example: new RegExp(`^${v}=`, 'm').test(example) }).toEqual({ v, example: true });
    }
  });

  it('the AsyncAPI document is valid AsyncAPI 3.0 with zero errors and covers the whole contract', async () => {
    const doc = buildAsyncApiDocument();
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(doc));
    expect(diagnostics.filter((d) => Number(d.severity) === 0)).toEqual([]);
    expect(document).toBeDefined();
    const names = Object.values((doc.components as any).messages).map((m: any) => m.name);
    for (const e of CLIENT_EVENTS) expect(names).toEqual(expect.arrayContaining([e, `${e} ack`]));
    expect(names).toEqual(
      expect.arrayContaining(['session:event', 'inbox', 'auth_expired', 'error']),
    );
    const schemas = Object.keys((doc.components as any).schemas);
    expect(schemas.filter((s) => s.endsWith('Event') && s !== 'SessionEvent')).toHaveLength(
      EVENT_TYPES.length,
    );
  });

  it('serves /asyncapi.json, /asyncapi with its local renderer, /docs and /docs-json', async () => {
    const json = await t.http.get('/asyncapi.json');
    expect(json.status).toBe(200);
    expect(json.body.asyncapi).toBe('3.0.0');
    const page = await fetch(`${t.baseUrl}/asyncapi`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain('/asyncapi/assets/index.js');
    expect(html).not.toMatch(/https?:\/\//);
    const bundle = await fetch(`${t.baseUrl}/asyncapi/assets/index.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toBe('application/javascript; charset=utf-8');
    const openapi = await t.http.get('/docs-json');
    expect(openapi.body.openapi).toMatch(/^3\./);
    const paths = Object.keys(openapi.body.paths);
    for (const p of [
      '/auth/login',
      '/sessions',
      '/sessions/{id}/stream',
      '/sessions/{id}/messages',
      '/admin/usage',
      '/admin/stats',
      '/reminders',
      '/interactions',
    ]) {
      expect(paths).toContain(p);
    }
    expect(openapi.body.components.securitySchemes.bearer).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    expect(JSON.stringify(openapi.body.paths['/sessions/{id}/messages'].post.responses)).toContain(
      'SESSION_BUSY',
    );
  });
});
