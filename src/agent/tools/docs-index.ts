import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DocSection {
  file: string;
  title: string;
  text: string;
}

export interface DocHit {
  file: string;
  title: string;
  snippet: string;
  score: number;
}

const STOP = new Set([
  'the',
  'a',
  'an',
  'and',
  'or',
  'of',
  'to',
  'in',
  'is',
  'it',
  'for',
  'on',
  'with',
  'as',
  'by',
  'be',
  'are',
  'how',
  'what',
  'do',
  'i',
]);

function tokenize(text: string): string[] {
  return (text.toLowerCase().match(/[a-z0-9_]+/g) ?? []).filter(
    (t) => t.length > 1 && !STOP.has(t),
  );
}

/** Splits markdown into sections at headings. */
export function sectionsOf(file: string, markdown: string): DocSection[] {
  const out: DocSection[] = [];
  let title = file;
  let lines: string[] = [];
  const push = (): void => {
    const text = lines.join('\n').trim();
    if (text) out.push({ file, title, text });
  };
  for (const line of markdown.split('\n')) {
    const h = /^#{1,4}\s+(.*)$/.exec(line);
    if (h) {
      push();
      title = h[1].trim();
      lines = [];
    } else {
      lines.push(line);
    }
  }
  push();
  return out;
}

/**
 * BM25 over sections of the service's own documentation (README.md and docs/*.md), built once.
 * Title words count twice.
 */
export class DocsIndex {
  private readonly docs: { section: DocSection; tf: Map<string, number>; len: number }[] = [];
  private readonly df = new Map<string, number>();
  private avgLen = 0;

  constructor(sections: DocSection[]) {
    for (const section of sections) {
      const tokens = [
        ...tokenize(section.title),
        ...tokenize(section.title),
        ...tokenize(section.text),
      ];
      const tf = new Map<string, number>();
      for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
      for (const t of tf.keys()) this.df.set(t, (this.df.get(t) ?? 0) + 1);
      this.docs.push({ section, tf, len: tokens.length });
    }
    this.avgLen = this.docs.reduce((n, d) => n + d.len, 0) / Math.max(1, this.docs.length);
  }

  static fromDirectory(root: string): DocsIndex {
    const files = [
      'README.md',
      ...readdirSync(join(root, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`),
    ];
    const sections = files.flatMap((f) => {
      try {
        return sectionsOf(f, readFileSync(join(root, f), 'utf8'));
      } catch {
        return [];
      }
    });
    return new DocsIndex(sections);
  }

  search(query: string, limit = 3): DocHit[] {
    const terms = [...new Set(tokenize(query))];
    if (terms.length === 0) return [];
    const k1 = 1.2;
    const b = 0.75;
    const n = this.docs.length;
    const scored = this.docs.map((d) => {
      let score = 0;
      for (const t of terms) {
        const f = d.tf.get(t);
        if (!f) continue;
        const df = this.df.get(t) ?? 0;
        const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
        score += (idf * (f * (k1 + 1))) / (f + k1 * (1 - b + (b * d.len) / this.avgLen));
      }
      return { d, score };
    });
    return scored
      .filter((s) => s.score > 0)
      .sort((a, b2) => b2.score - a.score)
      .slice(0, limit)
      .map(({ d, score }) => ({
        file: d.section.file,
        title: d.section.title,
        snippet: snippet(d.section.text, terms),
        score: Number(score.toFixed(3)),
      }));
  }
}

/** About 220 characters around the first place a (stemmed) query term occurs. */
function snippet(text: string, terms: string[]): string {
  const flat = text.replace(/\s+/g, ' ');
  const lower = flat.toLowerCase();
  const at = Math.max(0, Math.min(...terms.map((t) => lower.indexOf(t)).filter((i) => i >= 0)));
  const start = Math.max(0, at - 60);
  return (
    (start > 0 ? '…' : '') +
    flat.slice(start, start + 220).trim() +
    (start + 220 < flat.length ? '…' : '')
  );
}
