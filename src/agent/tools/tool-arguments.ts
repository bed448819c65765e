import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { FieldProblem } from '../../contracts/error-codes.js';
import type { Tool } from './tool.js';

const blank = (v: unknown): boolean => typeof v === 'string' && v.trim() === '';

/** The longest text an edited argument may hold: a form value's limit (answer-interaction). */
const ARGUMENT_TEXT_MAX = 500;
/** All edited arguments of one call, as JSON: they are stored, broadcast and sent to the model. */
const ARGUMENTS_MAX_BYTES = 16_384;

/** How deep edited arguments may nest: JSON.parse of a ~1 MB payload can nest 200,000 deep. */
const NESTING_MAX = 32;

interface Oversize {
  path: string;
  problem: string;
  deep?: boolean;
}

/**
 * The texts and keys in `args` longer than ARGUMENT_TEXT_MAX, and the arguments nested past
 * NESTING_MAX, by dotted path. Walked with a stack, not recursion: a deep value must come back
 * as a field problem, not a stack overflow.
 */
function oversized(args: Record<string, unknown>): Oversize[] {
  const out: Oversize[] = [];
  const stack: [unknown, string[]][] = [[args, []]];
  while (stack.length > 0) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (value.length > ARGUMENT_TEXT_MAX)
        out.push({
          path: path.join('.'),
          problem: `must be at most ${ARGUMENT_TEXT_MAX} characters`,
        });
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (path.length > NESTING_MAX) {
      // Named by the argument itself: a 32-part path would say nothing more.
      out.push({
        path: path[0],
        problem: `must nest at most ${NESTING_MAX} levels deep`,
        deep: true,
      });
      continue;
    }
    const entries = Object.entries(value as Record<string, unknown>);
    // Pushed last to first, so they are reported in the arguments' own order.
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, v] = entries[i];
      if (k.length > ARGUMENT_TEXT_MAX)
        out.push({
          path: path.join('.'),
          problem: `must have keys of at most ${ARGUMENT_TEXT_MAX} characters`,
        });
      else stack.push([v, [...path, k]]);
    }
  }
  return out;
}

const listed = (byField: Map<string, string[]>): FieldProblem[] =>
  [...byField].map(([field, problems]) => ({ field, problems }));

/** The argument an ajv error is about, as a dotted path (`a.0.b`); '' for the object itself. */
function pathOf(e: ErrorObject): string {
  const parts = e.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = e.params as { missingProperty?: string; additionalProperty?: string };
  if (e.keyword === 'required' && params.missingProperty) parts.push(params.missingProperty);
  if (e.keyword === 'additionalProperties' && params.additionalProperty)
    parts.push(params.additionalProperty);
  return parts.join('.');
}

function problemOf(e: ErrorObject): string {
  if (e.keyword === 'required') return 'is required';
  if (e.keyword === 'additionalProperties') return 'is not a parameter of this tool';
  return e.message ?? `fails ${e.keyword}`;
}

/**
 * Checks arguments a person gave a tool (an edited confirmation) against the tool's parameter
 * JSON schema, the one the model is offered, compiled once per tool. A required argument that is
 * blank, or one the tool says it cannot use, is refused too: the model's own calls would have
 * had those asked for with a form, and an approval has no form to fall back on. Sizes are capped
 * like a form's values (each text, and all of them together as JSON).
 */
export class ToolArguments {
  // allErrors: every bad field is named at once; strict off: a tool's schema (an MCP server's,
  // say) may carry keywords ajv does not know, and those only describe.
  private readonly ajv = new Ajv({ allErrors: true, strict: false });
  private readonly compiled = new WeakMap<Tool, ValidateFunction>();

  /** What is wrong with `args` for `tool`, each named by `<prefix>.<argument>`; [] when none. */
  problems(tool: Tool, args: Record<string, unknown>, prefix: string): FieldProblem[] {
    const byField = new Map<string, string[]>();
    const add = (path: string, problem: string): void => {
      const field = path ? `${prefix}.${path}` : prefix;
      const list = byField.get(field) ?? [];
      if (!list.includes(problem)) list.push(problem);
      byField.set(field, list);
    };
    const over = oversized(args);
    for (const o of over) add(o.path, o.problem);
    // Too deep for JSON.stringify and ajv (both recurse): what is wrong is said already.
    if (over.some((o) => o.deep)) return listed(byField);
    if (over.length === 0 && Buffer.byteLength(JSON.stringify(args)) > ARGUMENTS_MAX_BYTES)
      add('', `must be at most ${ARGUMENTS_MAX_BYTES} bytes as JSON`);
    const validate = this.validator(tool);
    if (!validate(args)) for (const e of validate.errors ?? []) add(pathOf(e), problemOf(e));
    for (const name of tool.required) if (blank(args[name])) add(name, 'must not be blank');
    for (const name of tool.invalidArguments?.(args) ?? []) add(name, 'cannot be used as given');
    return listed(byField);
  }

  private validator(tool: Tool): ValidateFunction {
    let v = this.compiled.get(tool);
    if (!v) {
      v = this.ajv.compile(tool.parameters);
      this.compiled.set(tool, v);
    }
    return v;
  }
}
