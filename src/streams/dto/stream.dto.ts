import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import type { StreamQuery, StreamTicket } from '../../contracts/rest.js';
import type { Exactly } from '../../common/exactly.js';

export class StreamQueryDto implements Exactly<StreamQueryDto, StreamQuery> {
  @ApiPropertyOptional({
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    description: 'Resume after this seq (Last-Event-ID wins when both are sent)',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  afterSeq?: number;

  @ApiPropertyOptional({
    description:
      'A ticket from POST /sessions/{id}/stream-tickets, for clients that cannot send an Authorization header (EventSource)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  ticket?: string;
}

export class StreamTicketDto implements Exactly<StreamTicketDto, StreamTicket> {
  @ApiProperty({ description: 'Pass as `?ticket=` to GET /sessions/{id}/stream; single use' })
  ticket!: string;

  @ApiProperty({ format: 'date-time', description: 'Redeem before this (60 s after issue)' })
  expiresAt!: string;
}
