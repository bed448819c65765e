import { ArithmeticError, evaluate, formatNumber } from './arithmetic.js';
import { type Tool, type ToolContext, type ToolResult, text } from './tool.js';

export class CalculatorTool implements Tool {
  readonly name = 'calculator';
  readonly description = 'Evaluates an arithmetic expression: + - * / % ^ and parentheses.';
  readonly parameters = {
    type: 'object',
    properties: { expression: { type: 'string', description: 'e.g. (2 + 3) * 4' } },
    required: ['expression'],
    additionalProperties: false,
  };
  readonly needsConfirmation = false;
  readonly required = ['expression'] as const;
  readonly formFields = [
    { name: 'expression', label: 'Expression', type: 'text' as const, required: true },
  ];

  execute(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult> {
    if (ctx.signal.aborted) return Promise.reject(ctx.signal.reason as Error);
    const expression = text(args.expression);
    try {
      const result = formatNumber(evaluate(expression));
      return Promise.resolve({
        content: JSON.stringify({ expression, result }),
        summary: `${expression} = ${result}`,
      });
    } catch (err) {
      if (err instanceof ArithmeticError) {
        return Promise.resolve({
          content: JSON.stringify({ expression, error: err.message }),
          summary: `cannot evaluate: ${err.message}`,
        });
      }
      throw err;
    }
  }
}
