import type { FormField } from '../../contracts/events.js';
import { futureTimeProblem } from '../../common/reminder-time.js';

/**
 * What is wrong with a (non-empty, string) form value for its field's type, or undefined.
 * `datetime` is read by the same parser the reminder tool uses and must be a future instant.
 */
export function formValueProblem(field: FormField, value: string): string | undefined {
  switch (field.type) {
    case 'datetime': {
      const problem = futureTimeProblem(value);
      return problem ? `${field.label} ${problem}` : undefined;
    }
    case 'number':
      return Number.isFinite(Number(value.trim())) ? undefined : `${field.label} must be a number`;
    case 'text':
      return undefined;
  }
}
