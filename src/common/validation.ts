import {
  type ArgumentMetadata,
  Injectable,
  ValidationPipe,
  type ValidationError,
} from '@nestjs/common';
import type { FieldProblem } from '../contracts/error-codes.js';
import { DomainError } from './domain-error.js';
import { payloadProblems } from './payload-guard.js';
import { isUuid } from './uuid.js';

/** Flattens class-validator errors into one entry per field, with dotted paths for nested ones. */
export function fieldProblems(errors: ValidationError[], prefix = ''): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const e of errors) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const constraints = Object.entries(e.constraints ?? {}).map(([kind, message]) =>
      kind === 'whitelistValidation' ? `${field} is not an allowed field` : message,
    );
    if (constraints.length > 0) out.push({ field, problems: constraints });
    if (e.children?.length) out.push(...fieldProblems(e.children, field));
  }
  return out;
}

const validationOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  transform: true,
  stopAtFirstError: false,
  exceptionFactory: (errors: ValidationError[]): DomainError =>
    DomainError.validation('Request validation failed', fieldProblems(errors)),
};

/**
 * The global pipe: DTO validation with unknown fields rejected. A JSON body that is not an object
 * (an array, a string, null), and bodies or queries that payloadProblems() refuses (depth,
 * prototype keys, control characters, null fields), are rejected before class-transformer sees
 * them. A UUID in a path is lower-cased: UUIDs are case-insensitive, and ids are compared and
 * used as keys (rooms, locks, tickets) as strings, in the canonical lower case the database returns.
 */
@Injectable()
export class StrictValidationPipe extends ValidationPipe {
  constructor() {
    super(validationOptions);
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'param' && isUuid(value)) return value.toLowerCase();
    if (metadata.type === 'body' && metadata.metatype && this.isDto(metadata.metatype)) {
      if (value === undefined) value = {};
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw DomainError.validation('The request body must be a JSON object', [
          { field: '(body)', problems: ['must be a JSON object'] },
        ]);
      }
    }
    if (metadata.type === 'body' || metadata.type === 'query') {
      const problems = payloadProblems(value, `(${metadata.type})`);
      if (problems.length > 0) throw DomainError.validation('Request validation failed', problems);
    }
    return super.transform(value, metadata);
  }

  private isDto(metatype: unknown): boolean {
    return ![String, Boolean, Number, Array, Object].includes(metatype as never);
  }
}
