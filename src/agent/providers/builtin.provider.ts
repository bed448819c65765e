import { randomUUID } from 'node:crypto';
import { sleep, text as str } from '../tools/tool.js';
import type { ToolCall, TranscriptMessage } from '../../runs/transcript.js';
import type { LlmProvider, ProviderChunk, ProviderRequest } from './provider.js';

const MAX_COUNT = 10_000;

const HELP =
  'I am the built-in demo agent. I can calculate ("what is 2 + 3 * 4"), search this service\'s ' +
  'documentation ("search replay"), set reminders ("remind me to call Ada at 9:00"), count ' +
  '("count to 20") and recap what you said earlier in this session ("recap").';

const words = (s: string): number => (s.match(/\S+/g) ?? []).length;

/** Splits a reminder request into its time and label, when the text has them. */
export function parseReminder(text: string): { time?: string; label?: string } {
  const rest = text
    .replace(/^\s*(remind me|set a reminder)\b/i, '')
    .replace(/[.!?]\s*$/, '')
    .trim();
  // "in 2 seconds" keeps its "in" (without it the time parser would read a duration, not a time).
  const when = (prep: string, t: string): string => (/^in$/i.test(prep) ? `in ${t}` : t);
  let m: RegExpExecArray | null;
  if ((m = /^(at|on|for|in)\s+(.+?)\s+(?:to|about)\s+(.+)$/i.exec(rest)))
    return { time: when(m[1], m[2]), label: m[3] };
  if (
    (m =
      /^(?:to|about)\s+(.+?)\s+(?:(at|on|in)\s+(.+)|((?:tomorrow|today|tonight|next)\b.*))$/i.exec(
        rest,
      ))
  ) {
    return { label: m[1], time: m[4] ?? when(m[2], m[3]) };
  }
  if ((m = /^(?:to|about)\s+(.+)$/i.exec(rest))) return { label: m[1] };
  if ((m = /^(at|on|for|in)\s+(.+)$/i.exec(rest))) return { time: when(m[1], m[2]) };
  return {};
}

/** The answer to `recap`: the user's earlier messages exactly as the agent was given them. */
function recap(earlier: readonly string[]): string {
  if (earlier.length === 0) return 'You have not said anything earlier in this session.';
  return (
    `Earlier in this session you said (oldest first):\n` +
    earlier.map((m, i) => `${i + 1}. ${m}`).join('\n')
  );
}

/**
 * Decides what the built-in agent does with a user message; `earlier` are the user's earlier
 * messages in its context (for `recap`).
 */
export function route(
  text: string,
  earlier: readonly string[] = [],
): { tool?: ToolCall; reply?: string; count?: number } {
  const t = text.trim();
  let m: RegExpExecArray | null;
  if (/^recap\b/i.test(t)) return { reply: recap(earlier) };
  if ((m = /^(?:what is|what's|calculate)\s+(.+?)\s*\??$/i.exec(t))) {
    return { tool: { id: randomUUID(), name: 'calculator', arguments: { expression: m[1] } } };
  }
  if ((m = /^search\s+(.+)$/i.exec(t))) {
    return { tool: { id: randomUUID(), name: 'search_docs', arguments: { query: m[1].trim() } } };
  }
  if (/^(remind me|set a reminder)\b/i.test(t)) {
    return { tool: { id: randomUUID(), name: 'create_reminder', arguments: parseReminder(t) } };
  }
  if ((m = /^count to (\d+)\s*$/i.exec(t))) {
    const n = Number(m[1]);
    if (n < 1 || n > MAX_COUNT) return { reply: `I can count from 1 to at most ${MAX_COUNT}.` };
    return { count: n };
  }
  return { reply: HELP };
}

/** The final answer once a tool ran (or was skipped). */
function answerFromTool(name: string, content: string): string {
  const r = JSON.parse(content) as Record<string, unknown>;
  if (r.skipped === 'denied' && typeof r.reason === 'string') {
    return `I did not run ${name}: you declined, saying "${r.reason}". Ask again if you want me to try.`;
  }
  if (r.skipped) {
    return `I did not run ${name} (${str(r.skipped)}), so I cannot answer that with it. Ask again if you want me to try.`;
  }
  switch (name) {
    case 'calculator':
      return r.error
        ? `I could not calculate ${str(r.expression)}: ${str(r.error)}.`
        : `${str(r.expression)} = ${str(r.result)}. The result is ${str(r.result)}.`;
    case 'search_docs': {
      const hits = r.hits as { title: string; file: string; snippet: string }[];
      if (hits.length === 0) return `I found nothing about "${str(r.query)}" in the documentation.`;
      return (
        `Here is what the documentation says about "${str(r.query)}":\n` +
        hits.map((h) => `- ${h.title} (${h.file}): ${h.snippet}`).join('\n')
      );
    }
    case 'create_reminder':
      return `Done: I will remind you to ${str(r.label)} at ${str(r.dueAt)} (${str(r.time)}).`;
    default:
      return `The ${name} tool answered: ${content}`;
  }
}

/**
 * The default provider: deterministic, offline, no model. It routes the user's message to a tool
 * or a reply by pattern, streams its answer word by word (BUILTIN_TOKEN_DELAY_MS apart), and
 * counts tokens as whitespace-separated words of prompt and completion.
 */
export class BuiltinProvider implements LlmProvider {
  readonly name = 'builtin';

  constructor(private readonly tokenDelayMs: number) {}

  async *stream(req: ProviderRequest): AsyncIterable<ProviderChunk> {
    const prompt = req.messages.reduce((n, m) => n + words(m.content), words(req.system ?? ''));
    const last = req.messages[req.messages.length - 1];
    let completion = 0;
    const emit = async function* (
      this: BuiltinProvider,
      text: string,
    ): AsyncGenerator<ProviderChunk> {
      const parts = text.match(/\S+\s*/g) ?? [];
      for (const part of parts) {
        await sleep(this.tokenDelayMs, req.signal);
        completion++;
        yield { type: 'text', text: part };
      }
    }.bind(this);

    if (last?.role === 'tool') {
      yield* emit(answerFromTool(last.name, last.content));
    } else {
      const said = req.messages
        .filter((m): m is Extract<TranscriptMessage, { role: 'user' }> => m.role === 'user')
        .map((m) => m.content);
      const decision = route(said[said.length - 1] ?? '', said.slice(0, -1));
      if (decision.tool) {
        await sleep(this.tokenDelayMs, req.signal);
        completion += words(JSON.stringify(decision.tool.arguments));
        yield { type: 'tool_call', call: decision.tool };
      } else if (decision.count) {
        for (let i = 1; i <= decision.count; i++) {
          await sleep(this.tokenDelayMs, req.signal);
          completion++;
          yield { type: 'text', text: i < decision.count ? `${i} ` : `${i}` };
        }
      } else {
        yield* emit(decision.reply ?? '');
      }
    }
    yield { type: 'usage', promptTokens: prompt, completionTokens: completion };
  }
}
