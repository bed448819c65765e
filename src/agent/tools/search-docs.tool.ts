import { packageRoot } from '../../common/package-root.js';
import { DocsIndex } from './docs-index.js';
import { type Tool, type ToolContext, type ToolResult, text } from './tool.js';

export class SearchDocsTool implements Tool {
  readonly name = 'search_docs';
  readonly description =
    "Searches this service's bundled documentation and returns the best sections.";
  readonly parameters = {
    type: 'object',
    properties: { query: { type: 'string', description: 'what to look for' } },
    required: ['query'],
    additionalProperties: false,
  };
  readonly needsConfirmation = true;
  readonly required = ['query'] as const;
  readonly formFields = [
    { name: 'query', label: 'Search for', type: 'text' as const, required: true },
  ];
  private index: DocsIndex | undefined;

  execute(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult> {
    ctx.signal.throwIfAborted();
    this.index ??= DocsIndex.fromDirectory(packageRoot());
    const query = text(args.query);
    const hits = this.index.search(query);
    return Promise.resolve({
      content: JSON.stringify({ query, hits }),
      summary: hits.length ? `${hits.length} sections found` : 'nothing found',
    });
  }
}
