import { useEffect, useState } from 'preact/hooks';
import type { ToolView } from '@hitl/sdk';
import { client } from './client';

let tools: Promise<Map<string, ToolView>> | null = null;

/** The tools the agent offers, read once per page (a failed read is tried again next time). */
function toolList(): Promise<Map<string, ToolView>> {
  tools ??= client.api.tools().then(
    (list) => new Map(list.items.map((t) => [t.name, t])),
    (err: unknown) => {
      tools = null;
      throw err;
    },
  );
  return tools;
}

/**
 * The parameter JSON schema of a tool: `undefined` while it loads, `null` when the service does
 * not list the tool (or cannot be asked), so the dialog falls back to the arguments it was given.
 */
export function useToolSchema(name: string): Record<string, unknown> | null | undefined {
  const [schema, setSchema] = useState<Record<string, unknown> | null | undefined>(undefined);
  useEffect(() => {
    let live = true;
    toolList().then(
      (m) => live && setSchema(m.get(name)?.parameters ?? null),
      () => live && setSchema(null),
    );
    return () => {
      live = false;
    };
  }, [name]);
  return schema;
}
