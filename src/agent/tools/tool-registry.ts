import { Inject, Injectable } from '@nestjs/common';
import { RemindersRepository } from '../../reminders/reminders.repository.js';
import { CalculatorTool } from './calculator.tool.js';
import { CreateReminderTool } from './create-reminder.tool.js';
import { SearchDocsTool } from './search-docs.tool.js';
import type { Tool } from './tool.js';

/** The tools offered to every provider. */
@Injectable()
export class ToolRegistry {
  private readonly tools: Map<string, Tool>;

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
}
