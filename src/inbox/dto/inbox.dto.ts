import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { PageQueryDto } from '../../common/page-query.dto.js';
import type { Exactly } from '../../common/exactly.js';
import { INTERACTION_KINDS, type InteractionKind } from '../../contracts/events.js';
import {
  INTERACTION_LIST_STATUSES,
  type InteractionListStatus,
  type ListInteractionsQuery,
  type Page,
  type PendingInteraction,
} from '../../contracts/rest.js';

export class ListInteractionsQueryDto
  extends PageQueryDto
  implements Exactly<ListInteractionsQueryDto, ListInteractionsQuery>
{
  @ApiPropertyOptional({
    enum: INTERACTION_LIST_STATUSES,
    default: 'pending',
    description: 'Only the open questions are listed',
  })
  @IsOptional()
  @IsIn(INTERACTION_LIST_STATUSES)
  status?: InteractionListStatus;
}

export class PendingInteractionDto implements Exactly<PendingInteractionDto, PendingInteraction> {
  @ApiProperty({ format: 'uuid' }) interactionId!: string;
  @ApiProperty({ format: 'uuid' }) sessionId!: string;
  @ApiProperty({ type: String, nullable: true }) sessionTitle!: string | null;
  @ApiProperty({ enum: INTERACTION_KINDS }) kind!: InteractionKind;
  @ApiPropertyOptional({ description: 'The tool a confirmation asks about (confirm only)' })
  tool?: string;
  @ApiPropertyOptional({ description: 'The title of a form (form only)' })
  title?: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
}

export class PendingInteractionPageDto implements Exactly<
  PendingInteractionPageDto,
  Page<PendingInteraction>
> {
  @ApiProperty({ type: [PendingInteractionDto] }) items!: PendingInteractionDto[];
  @ApiProperty({ type: String, nullable: true, description: 'null on the last page' })
  nextCursor!: string | null;
}
