import { Inject, Injectable } from '@nestjs/common';
import { RemindersRepository } from '../../reminders/reminders.repository.js';
import { CalculatorTool } from './calculator.tool.js';
import { CreateReminderTool } from './create-reminder.tool.js';
import { SearchDocsTool } from './search-docs.tool.js';
import type { FieldProblem } from '../../contracts/error-codes.js';
import type { Tool } from './tool.js';
import { ToolArguments } from './tool-arguments.js';

/** The tools offered to every provider. */
@Injectable()
export class ToolRegistry {
  private readonly tools: Map<string, Tool>;
  private readonly checker = new ToolArguments();

  constructor(@Inject(RemindersRepository) reminders: RemindersRepository) {
    this.tools = new Map(
      [new CalculatorTool(), new SearchDocsTool(), new CreateReminderTool(reminders)].map((t) => [
        t.name,
        t,
      ]),
    );
  }

  get(name: string): Tool | undefined {
    return this.tools.get(name);
  }

  all(): Tool[] {
    return [...this.tools.values()];
  }

  /** What is wrong with arguments given for `tool` (its parameter schema), named `<prefix>.<arg>`. */
  argumentProblems(tool: Tool, args: Record<string, unknown>, prefix: string): FieldProblem[] {
    return this.checker.problems(tool, args, prefix);
  }
}
