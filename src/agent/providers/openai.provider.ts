import OpenAI from 'openai';
import type {
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import type { TranscriptMessage } from '../../runs/transcript.js';
import type { LlmProvider, ProviderChunk, ProviderRequest } from './provider.js';

function toOpenAiMessages(messages: TranscriptMessage[]): ChatCompletionMessageParam[] {
  return messages.map((m): ChatCompletionMessageParam => {
    switch (m.role) {
      case 'user':
        return { role: 'user', content: m.content };
      case 'assistant':
        return {
          role: 'assistant',
          content: m.content || null,
          ...(m.toolCalls?.length
            ? {
                tool_calls: m.toolCalls.map((c) => ({
                  id: c.id,
                  type: 'function' as const,
                  function: { name: c.name, arguments: JSON.stringify(c.arguments) },
                })),
              }
            : {}),
        };
      case 'tool':
        return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
    }
  });
}

function parseArguments(raw: string): Record<string, unknown> {
  if (!raw.trim()) return {};
  try {
    const v = JSON.parse(raw) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : {};
  } catch {
    // A model that produced broken JSON gets its arguments asked for with a form instead.
    return {};
  }
}

/**
 * Any OpenAI-compatible chat-completions server (OpenAI, vLLM, llama.cpp's server, …) through the
 * official SDK: streamed, the registry's tools offered as function tools, usage from the final
 * chunk. The AbortSignal aborts the HTTP request.
 */
export class OpenAiProvider implements LlmProvider {
  readonly name = 'openai';
  private readonly client: OpenAI;

  constructor(opts: { baseUrl: string; apiKey: string; model: string }) {
    this.client = new OpenAI({
      baseURL: opts.baseUrl,
      apiKey: opts.apiKey,
      maxRetries: 0,
      timeout: 120_000,
    });
    this.model = opts.model;
  }

  readonly model: string;

  async *stream(req: ProviderRequest): AsyncIterable<ProviderChunk> {
    const tools: ChatCompletionTool[] = req.tools.map((t) => ({
      type: 'function',
      function: { name: t.name, description: t.description, parameters: t.parameters },
    }));
    const stream = await this.client.chat.completions.create(
      {
        model: this.model,
        messages: [
          ...(req.system ? [{ role: 'system' as const, content: req.system }] : []),
          ...toOpenAiMessages(req.messages),
        ],
        ...(tools.length ? { tools } : {}),
        stream: true,
        stream_options: { include_usage: true },
      },
      { signal: req.signal },
    );
    const calls = new Map<number, { id: string; name: string; args: string }>();
    let usage: ProviderChunk | undefined;
    for await (const chunk of stream) {
      if (chunk.usage) {
        usage = {
          type: 'usage',
          promptTokens: chunk.usage.prompt_tokens,
          completionTokens: chunk.usage.completion_tokens,
        };
      }
      const delta = chunk.choices[0]?.delta;
      if (delta?.content) yield { type: 'text', text: delta.content };
      for (const tc of delta?.tool_calls ?? []) {
        const current = calls.get(tc.index) ?? { id: '', name: '', args: '' };
        if (tc.id) current.id = tc.id;
        if (tc.function?.name) current.name += tc.function.name;
        if (tc.function?.arguments) current.args += tc.function.arguments;
        calls.set(tc.index, current);
      }
    }
    for (const [, c] of [...calls].sort((a, b) => a[0] - b[0])) {
      yield {
        type: 'tool_call',
        call: { id: c.id || `call_${c.name}`, name: c.name, arguments: parseArguments(c.args) },
      };
    }
    if (usage) yield usage;
  }
}
