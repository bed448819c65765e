import { DomainError } from '../../common/domain-error.js';

// Control characters other than tab (\u0009) and newline (\u000a).
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f]/;

/**
 * The content rules of docs/protocol.md "Socket.IO" (`message:send`): trimmed, 1..max characters,
 * no control characters but \n and \t.
 */
export function checkContent(content: string, max: number): string {
  const trimmed = content.trim();
  const problems: string[] = [];
  if (trimmed.length === 0) problems.push('content must not be empty');
  if ([...trimmed].length > max) problems.push(`content must be at most ${max} characters`);
  if (FORBIDDEN.test(trimmed))
    problems.push('content must not contain control characters (newline and tab are fine)');
  if (problems.length)
    throw DomainError.validation('Invalid message', [{ field: 'content', problems }]);
  return trimmed;
}
