import { randomUUID } from 'node:crypto';
import { sleep, text as str } from '../tools/tool.js';
import type {
  LlmProvider,
  ProviderChunk,
  ProviderRequest,
  ToolCall,
  TranscriptMessage,
} from './provider.js';

export const MAX_COUNT = 10_000;

const HELP =
  'I am the built-in demo agent. I can calculate ("what is 2 + 3 * 4"), search this service\'s ' +
  'documentation ("search replay"), set reminders ("remind me to call Ada at 9:00") and count ' +
  '("count to 20").';

const words = (s: string): number => (s.match(/\S+/g) ?? []).length;

/** Splits a reminder request into its time and label, when the text has them. */
export function parseReminder(text: string): { time?: string; label?: string } {
  const rest = text
    .replace(/^\s*(remind me|set a reminder)\b/i, '')
    .replace(/[.!?]\s*$/, '')
    .trim();
  let m: RegExpExecArray | null;
  if ((m = /^(?:at|on|for|in)\s+(.+?)\s+(?:to|about)\s+(.+)$/i.exec(rest)))
    return { time: m[1], label: m[2] };
  if (
    (m = /^(?:to|about)\s+(.+?)\s+((?:at|on|in)\s+.+|(?:tomorrow|today|tonight)\b.*)$/i.exec(rest))
  ) {
    return { label: m[1], time: m[2].replace(/^(?:at|on|in)\s+/i, '') };
  }
  if ((m = /^(?:to|about)\s+(.+)$/i.exec(rest))) return { label: m[1] };
  if ((m = /^(?:at|on|for|in)\s+(.+)$/i.exec(rest))) return { time: m[1] };
  return {};
}

/** Decides what the built-in agent does with a user message. */
export function route(text: string): { tool?: ToolCall; reply?: string; count?: number } {
  const t = text.trim();
  let m: RegExpExecArray | null;
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
export function answerFromTool(name: string, content: string): string {
  const r = JSON.parse(content) as Record<string, unknown>;
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
      return `Done: I will remind you to ${str(r.label)} (${str(r.time)}).`;
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
    const prompt = req.messages.reduce((n, m) => n + words(m.content), 0);
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
      const user = [...req.messages]
        .reverse()
        .find((m): m is Extract<TranscriptMessage, { role: 'user' }> => m.role === 'user');
      const decision = route(user?.content ?? '');
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
