import type { Tool } from '../tools/tool.js';

const AGENT_NAME = 'Relay';

/** What the agent is, what it can do and when "now" is: the first message of every model call. */
export function systemPrompt(tools: readonly Tool[], now: Date): string {
  const toolLines = tools.map((t) => `- ${t.name}: ${t.description}`).join('\n');
  return (
    `You are ${AGENT_NAME}, the assistant of a chat service with a human in the loop. ` +
    'Answer briefly and plainly. Use a tool when it helps; the user may be asked to confirm a ' +
    'tool or to fill in what is missing.\n' +
    `Tools:\n${toolLines}\n` +
    `Now: ${now.toISOString()} (UTC; times without an offset are UTC).`
  );
}
