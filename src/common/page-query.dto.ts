import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import type { PageQuery } from '../contracts/rest.js';
import type { Exactly } from './exactly.js';

/** `?limit=&cursor=` of every list route. */
export class PageQueryDto implements Exactly<PageQueryDto, PageQuery> {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: 100,
    description: 'Page size (default 20 for /sessions, 50 for admin lists)',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(300)
  cursor?: string;
}
