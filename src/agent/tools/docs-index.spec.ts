import { DocsIndex, sectionsOf } from './docs-index.js';

describe('DocsIndex (BM25)', () => {
  const index = new DocsIndex([
    ...sectionsOf(
      'a.md',
      '# Replay\nClients resume the stream after a seq; replay is gap-free.\n# Quotas\nDaily token quota per user.',
    ),
    ...sectionsOf(
      'b.md',
      '# Logs\nStructured logs carry the user id.\n# Tokens\nAccess tokens expire; refresh tokens rotate.',
    ),
  ]);

  it('ranks the section about the query first', () => {
    expect(index.search('replay stream')[0]).toMatchObject({ file: 'a.md', title: 'Replay' });
    expect(index.search('refresh tokens')[0]).toMatchObject({ title: 'Tokens' });
  });

  it('finds nothing for unrelated words or stop words only', () => {
    expect(index.search('kubernetes')).toEqual([]);
    expect(index.search('the of and')).toEqual([]);
  });

  it('returns a snippet around the match', () => {
    expect(index.search('quota')[0].snippet).toMatch(/quota/i);
  });
});
