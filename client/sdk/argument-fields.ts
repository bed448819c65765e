/*
 * A confirmation's arguments as form inputs, from the tool's parameter JSON schema (`GET /tools`),
 * and the inputs back as the `arguments` of `{approved: true, arguments}`. Only the common
 * schema shapes get their own input (string, number/integer, boolean, string enum); anything else
 * is edited as JSON text, so every argument stays editable.
 */

/** How an argument is edited: a text box, a number box, a checkbox, a choice, or JSON text. */
export type ArgumentKind = 'text' | 'number' | 'boolean' | 'choice' | 'json';

export interface ArgumentField {
  name: string;
  kind: ArgumentKind;
  required: boolean;
  description?: string;
  choices?: string[];
}

/** What the inputs hold: text for every kind but `boolean`. */
export type ArgumentValues = Record<string, string | boolean>;

type Schema = Record<string, unknown>;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function kindOf(prop: Schema | undefined, value: unknown): ArgumentKind {
  const type = prop?.type ?? (value === undefined ? 'string' : typeof value);
  if (Array.isArray(prop?.enum) && prop.enum.every((x) => typeof x === 'string')) return 'choice';
  if (type === 'string') return 'text';
  if (type === 'number' || type === 'integer') return 'number';
  if (type === 'boolean') return 'boolean';
  return 'json';
}

/**
 * The inputs of a confirmation's arguments: the schema's parameters in its order (with `required`,
 * descriptions and choices), then any argument the call has that the schema does not name.
 * Without a schema, each argument gets an input by its value's type.
 */
export function argumentFields(
  schema: Schema | null | undefined,
  args: Record<string, unknown>,
): ArgumentField[] {
  const props = isObject(schema?.properties) ? schema.properties : {};
  const required = Array.isArray(schema?.required) ? (schema.required as string[]) : [];
  const names = [...Object.keys(props), ...Object.keys(args).filter((n) => !(n in props))];
  return names.map((name) => {
    const prop = isObject(props[name]) ? props[name] : undefined;
    const kind = kindOf(prop, args[name]);
    return {
      name,
      kind,
      required: required.includes(name),
      description: typeof prop?.description === 'string' ? prop.description : undefined,
      choices: kind === 'choice' ? (prop!.enum as string[]) : undefined,
    };
  });
}

/** The inputs' first values: the arguments the call was asked with (JSON text for `json`). */
export function initialValues(
  fields: ArgumentField[],
  args: Record<string, unknown>,
): ArgumentValues {
  const out: ArgumentValues = {};
  for (const f of fields) {
    const v = args[f.name];
    if (f.kind === 'boolean') out[f.name] = v === true;
    else if (v === undefined) out[f.name] = '';
    // A json box always holds JSON, so a string of a `['string', 'null']` parameter reads back
    // as that string (not "is not valid JSON", nor "42" turned into a number).
    else if (f.kind === 'json') out[f.name] = JSON.stringify(v);
    else out[f.name] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

/** A number box's text that is a number: plain decimal notation, finite (no hex, no Infinity). */
const DECIMAL = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;

function numberOf(text: string): number | string {
  const t = text.trim();
  const n = DECIMAL.test(t) ? Number(t) : NaN;
  return Number.isFinite(n) ? n : text;
}

/**
 * The arguments to send: the asked ones, with the inputs the person changed read back over them,
 * or the problems only this page can see (JSON that does not parse). An argument nobody touched
 * goes back exactly as asked (a null, a "", a string of a union type). `touched` names the
 * changed inputs; without it, an input counts as changed when it differs from its first value.
 * A blank optional input is left out, and so is an unticked optional checkbox the asked call did
 * not have; a blank required one is sent, so the service names it. A number box's text that is
 * not a plain finite decimal is sent as text: the service names that too.
 */
export function argumentsOf(
  fields: ArgumentField[],
  values: ArgumentValues,
  asked: Record<string, unknown> = {},
  touched?: Iterable<string>,
): { args: Record<string, unknown>; problems: Record<string, string> } {
  const args: Record<string, unknown> = { ...asked };
  const problems: Record<string, string> = {};
  const first = initialValues(fields, asked);
  const changed = touched ? new Set(touched) : null;
  for (const f of fields) {
    const v = values[f.name];
    if (v === undefined) continue;
    if (changed ? !changed.has(f.name) : v === first[f.name]) continue;
    delete args[f.name];
    if (typeof v === 'boolean') {
      if (v || f.required || f.name in asked) args[f.name] = v;
      continue;
    }
    if (v.trim() === '' && !f.required) continue;
    if (f.kind === 'number') args[f.name] = numberOf(v);
    else if (f.kind === 'json') {
      try {
        args[f.name] = JSON.parse(v) as unknown;
      } catch {
        problems[f.name] = 'is not valid JSON';
      }
    } else args[f.name] = v;
  }
  return { args, problems };
}
