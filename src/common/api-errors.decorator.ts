import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';
import {
  ERROR_CODES,
  ERROR_STATUS,
  type ErrorBody,
  type ErrorCode,
} from '../contracts/error-codes.js';
import type { Exactly } from './exactly.js';

export class ErrorResponseDto implements Exactly<ErrorResponseDto, ErrorBody> {
  @ApiProperty({ example: 400 }) statusCode!: number;
  @ApiProperty({ enum: ERROR_CODES, example: 'VALIDATION_FAILED' }) code!: ErrorCode;
  @ApiProperty({ example: 'Request validation failed' }) message!: string;
  @ApiPropertyOptional({
    description: 'For VALIDATION_FAILED: one entry per bad or unknown field',
    example: [{ field: 'email', problems: ['email must be an email'] }],
  })
  details?: unknown;
  @ApiPropertyOptional({
    description: 'For RATE_LIMITED and UNAVAILABLE: milliseconds until a retry can succeed',
  })
  retryAfterMs?: number;
}

/** Documents the error responses a route can give, grouped by HTTP status. */
export function ApiErrors(...codes: ErrorCode[]): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return applyDecorators(
    ...[...byStatus].map(([status, list]) =>
      ApiResponse({ status, type: ErrorResponseDto, description: list.join(', ') }),
    ),
  );
}
