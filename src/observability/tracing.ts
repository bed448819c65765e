import {
  type Attributes,
  type Context,
  context,
  type Link,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

/**
 * Spans of the service, through @opentelemetry/api only. Without the SDK (main.ts starts it only
 * when OTEL_EXPORTER_OTLP_ENDPOINT is set) the API is a no-op: a span is a shared non-recording
 * object, the active context is always the root one, and inject/extract do nothing.
 */
const tracer = trace.getTracer('hitl-agent-backend');

/**
 * Attribute names of the OpenTelemetry GenAI conventions. Written out, not imported: they live in
 * the package's `incubating` entry point, which is large and may change between its versions.
 */
export const GEN_AI = {
  operation: 'gen_ai.operation.name',
  provider: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  conversationId: 'gen_ai.conversation.id',
  agentName: 'gen_ai.agent.name',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  finishReasons: 'gen_ai.response.finish_reasons',
  toolName: 'gen_ai.tool.name',
  toolCallId: 'gen_ai.tool.call.id',
  toolType: 'gen_ai.tool.type',
} as const;

interface SpanOptions {
  attributes?: Attributes;
  kind?: SpanKind;
  /** The parent; the active context when absent. */
  parent?: Context;
  links?: Link[];
}

/**
 * Runs `fn` inside a new active span, which ends when `fn` settles; a rejection marks it failed
 * (and is passed on).
 */
export function inSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const { parent, ...rest } = options;
  return tracer.startActiveSpan(
    name,
    { kind: SpanKind.INTERNAL, ...rest },
    parent ?? context.active(),
    async (span) => {
      try {
        return await fn(span);
      } catch (err) {
        spanFailed(span, err);
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** A span of no duration: that something happened, in the trace `options.parent` names. */
export function markSpan(name: string, options: SpanOptions): void {
  const { parent, ...rest } = options;
  tracer.startSpan(name, { kind: SpanKind.INTERNAL, ...rest }, parent ?? context.active()).end();
}

/** Marks `span` failed by `err` (its class as `error.type`, its message as the status). */
export function spanFailed(span: Span, err: unknown): void {
  if (!span.isRecording()) return;
  const message = err instanceof Error ? err.message : String(err);
  span.setAttribute('error.type', err instanceof Error ? err.constructor.name : 'Error');
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/** The active span's W3C `traceparent`, to store or send along; undefined without the SDK. */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** A context whose parent is the span `traceparent` names (the active context when absent). */
export function contextOf(traceparent: string | null | undefined): Context {
  if (!traceparent) return context.active();
  return propagation.extract(context.active(), { traceparent });
}

/** The active span's trace id, for log lines; undefined outside a (recording) span. */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const { traceId, spanId, traceFlags } = span.spanContext();
  // Unsampled spans are not exported: a trace id that leads nowhere would only mislead.
  if (!(traceFlags & 1)) return undefined;
  return { trace_id: traceId, span_id: spanId };
}

/** A link to the active span (the request or command that caused what starts now). */
export function linkToActive(): Link[] {
  const span = trace.getActiveSpan();
  return span?.isRecording() ? [{ context: span.spanContext() }] : [];
}

export { SpanKind };
