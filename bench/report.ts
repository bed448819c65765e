import { cpus, totalmem } from 'node:os';
import type { FanoutResult } from './fanout.js';
import type { HistoryBenchResult } from './history-append.bench.js';
import type { ReplayResult } from './single-client.js';

type Db = 'postgres' | 'embedded';

export type ClusterResult = FanoutResult & { perNodeEventsPerS: number; vsSingleNode: number };

export interface BenchReport {
  mode: 'full' | 'quick';
  startedAt: string;
  machine: { cpu: string; cores: number; memoryGb: number; node: string; platform: string };
  settings: Record<string, number>;
  fanout: Partial<Record<'bare' | Db, FanoutResult>>;
  /** Two nodes, every session's tabs split over both. */
  cluster?: ClusterResult;
  /** Two nodes, each session's tabs on one node. */
  clusterAffine?: ClusterResult;
  firstEvent: Partial<Record<Db, { p50: number; p99: number; sends: number }>>;
  replay: Partial<Record<Db, ReplayResult>>;
  idleHeap: Partial<Record<'bare' | 'postgres', { sockets: number; bytesPerSocket: number }>>;
  history: HistoryBenchResult[];
  /** chat_history after the PostgreSQL runs: rows and total bytes with indexes. */
  storage?: { rows: number; bytes: number; bytesPerRow: number };
  errors: string[];
  ok: boolean;
}

const clusterCell = (c: ClusterResult | undefined): string =>
  c ? `${n0(c.perNodeEventsPerS)} (${c.vsSingleNode.toFixed(2)}× single node)` : '—';

export function machine(): BenchReport['machine'] {
  const list = cpus();
  return {
    cpu: list[0]?.model ?? 'unknown',
    cores: list.length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

const n0 = (v: number): string => Math.round(v).toLocaleString('en-US');
const ms = (v: number | undefined): string => (v === undefined ? '—' : `${v.toFixed(1)} ms`);
const kb = (v: number | undefined): string =>
  v === undefined ? '—' : `${(v / 1024).toFixed(1)} KB`;
const ratio = (v: number | undefined, base: number | undefined): string =>
  v === undefined || !base ? '' : ` (${(v / base).toFixed(2)}×)`;

/** The side-by-side table (markdown), ratios against bare Socket.IO in the same run. */
export function markdownTable(r: BenchReport): string {
  const { bare, postgres: pg, embedded: emb } = r.fanout;
  const hist = (engine: string): HistoryBenchResult | undefined =>
    r.history.find((h) => h.engine === engine);
  const histCell = (h: HistoryBenchResult | undefined): string =>
    h ? `${n0(h.logRowsPerS)} rows/s vs ${n0(h.rawRowsPerS)} raw (${h.ratio.toFixed(2)}×)` : '—';
  const integrity = (f: FanoutResult | undefined): string =>
    f
      ? f.integrity.ok
        ? `ok (${f.integrity.clients} clients)`
        : `FAILED ${JSON.stringify(f.integrity)}`
      : '—';
  const rows: [string, string, string, string][] = [
    [
      'events delivered per second',
      bare ? n0(bare.eventsPerS) : '—',
      pg ? n0(pg.eventsPerS) + ratio(pg.eventsPerS, bare?.eventsPerS) : '—',
      emb ? n0(emb.eventsPerS) + ratio(emb.eventsPerS, bare?.eventsPerS) : '—',
    ],
    [
      'deliveries per server CPU-second',
      bare ? n0(bare.eventsPerCpuS) : '—',
      pg ? n0(pg.eventsPerCpuS) + ratio(pg.eventsPerCpuS, bare?.eventsPerCpuS) : '—',
      emb ? n0(emb.eventsPerCpuS) + ratio(emb.eventsPerCpuS, bare?.eventsPerCpuS) : '—',
    ],
    [
      'commit → receive p50 / p99',
      bare ? `${ms(bare.commitToReceiveP50)} / ${ms(bare.commitToReceiveP99)}` : '—',
      pg ? `${ms(pg.commitToReceiveP50)} / ${ms(pg.commitToReceiveP99)}` : '—',
      emb ? `${ms(emb.commitToReceiveP50)} / ${ms(emb.commitToReceiveP99)}` : '—',
    ],
    [
      `${r.settings.sessions} simultaneous \`message:send\` acks p50 / p99`,
      '—',
      pg ? `${ms(pg.ackP50)} / ${ms(pg.ackP99)}` : '—',
      emb ? `${ms(emb.ackP50)} / ${ms(emb.ackP99)}` : '—',
    ],
    [
      `heap per idle authenticated connection (${r.settings.idleSockets} sockets)`,
      kb(r.idleHeap.bare?.bytesPerSocket),
      kb(r.idleHeap.postgres?.bytesPerSocket) +
        ratio(r.idleHeap.postgres?.bytesPerSocket, r.idleHeap.bare?.bytesPerSocket),
      '—',
    ],
    [
      'send → first event p50 (idle)',
      '—',
      ms(r.firstEvent.postgres?.p50),
      ms(r.firstEvent.embedded?.p50),
    ],
    [
      `replay of a ${r.replay.postgres?.events ?? r.replay.embedded?.events ?? r.settings.replayEvents}-event session (join + pages)`,
      '—',
      ms(r.replay.postgres?.ms),
      ms(r.replay.embedded?.ms),
    ],
    [
      'event log write rate vs raw multi-row INSERT',
      '—',
      histCell(hist('postgres')),
      histCell(hist('pglite')),
    ],
    [
      'two nodes on Redis, tabs of a session on both: deliveries/s per node',
      '—',
      clusterCell(r.cluster),
      '—',
    ],
    [
      'two nodes on Redis, tabs of a session on one: deliveries/s per node',
      '—',
      clusterCell(r.clusterAffine),
      '—',
    ],
    [
      'chat_history on disk per event (table + indexes)',
      '—',
      r.storage ? `${r.storage.bytesPerRow.toFixed(0)} B (${n0(r.storage.rows)} rows)` : '—',
      '—',
    ],
    ['seq integrity on every client', integrity(bare), integrity(pg), integrity(emb)],
  ];
  const header = '| | bare Socket.IO | ours, PostgreSQL 15 (fsync on) | ours, embedded (PGlite) |';
  return [header, '|---|---|---|---|', ...rows.map((c) => `| ${c.join(' | ')} |`)].join('\n');
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function panel(
  title: string,
  bars: { label: string; value: number; text: string }[],
  y: number,
  width: number,
): { svg: string; height: number } {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const left = 230;
  const barArea = width - left - 140;
  const parts = [
    `<text x="16" y="${y + 20}" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  bars.forEach((b, i) => {
    const by = y + 34 + i * 30;
    const w = Math.max(1, (b.value / max) * barArea);
    parts.push(
      `<text x="${left - 10}" y="${by + 15}" text-anchor="end" font-size="13">${esc(b.label)}</text>`,
      `<rect x="${left}" y="${by}" width="${w.toFixed(1)}" height="20" fill="${i === 0 ? '#8a8f98' : '#2f6fdb'}"/>`,
      `<text x="${(left + w + 6).toFixed(1)}" y="${by + 15}" font-size="13">${esc(b.text)}</text>`,
    );
  });
  return { svg: parts.join('\n'), height: 44 + bars.length * 30 };
}

/** A two-panel bar chart (throughput and p99 latency), hand-written SVG: no dependency. */
export function svgChart(r: BenchReport): string {
  const width = 760;
  const order: [string, FanoutResult | undefined][] = [
    ['bare Socket.IO', r.fanout.bare],
    ['ours, PostgreSQL', r.fanout.postgres],
    ['ours, embedded', r.fanout.embedded],
  ];
  const present = order.filter((o): o is [string, FanoutResult] => o[1] !== undefined);
  const thr = present.map(([label, f]) => ({
    label,
    value: f.eventsPerS,
    text: `${n0(f.eventsPerS)}/s`,
  }));
  for (const [label, c] of [
    ['ours, 2 nodes split (per node)', r.cluster],
    ['ours, 2 nodes affine (per node)', r.clusterAffine],
  ] as const) {
    if (c) thr.push({ label, value: c.perNodeEventsPerS, text: `${n0(c.perNodeEventsPerS)}/s` });
  }
  const lat = present.map(([label, f]) => ({
    label,
    value: f.commitToReceiveP99,
    text: `${f.commitToReceiveP99.toFixed(0)} ms`,
  }));
  const a = panel(
    `Events delivered per second (${r.settings.clients} clients, ${r.settings.sessions} sessions)`,
    thr,
    10,
    width,
  );
  const b = panel('p99 commit → receive (lower is better)', lat, 20 + a.height, width);
  const height = 40 + a.height + b.height;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    a.svg,
    b.svg,
    `<text x="16" y="${height - 10}" font-size="11" fill="#555">${esc(`${r.mode} run ${r.startedAt}, ${r.machine.cores} × ${r.machine.cpu}, Node ${r.machine.node} (shared machine: noisy)`)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
