import 'reflect-metadata';

/** What docs/configuration.md says about one environment variable. */
export interface EnvDoc {
  variable: string;
  meaning: string;
  /** Shown instead of the property's initial value, where that alone would mislead. */
  defaultText?: string;
}

const ENV_DOCS = Symbol('envDocs');

/**
 * Documents an EnvSchema variable: docs/configuration.md is generated from these (and from the
 * validation decorators beside them), so the page cannot drift from what the service accepts.
 */
export function Doc(meaning: string, defaultText?: string): PropertyDecorator {
  return (target, key) => {
    const docs = envDocsOf(target.constructor);
    Reflect.defineMetadata(
      ENV_DOCS,
      [...docs, { variable: String(key), meaning, defaultText }],
      target.constructor,
    );
  };
}

/** The documented variables of a schema class, in declaration order. */
export function envDocsOf(schema: object): readonly EnvDoc[] {
  return (Reflect.getMetadata(ENV_DOCS, schema) as EnvDoc[] | undefined) ?? [];
}
