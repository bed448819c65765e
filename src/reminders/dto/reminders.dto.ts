import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { PageQueryDto } from '../../common/page-query.dto.js';
import {
  REMINDER_STATUSES,
  type ListRemindersQuery,
  type Page,
  type ReminderStatus,
  type ReminderView,
} from '../../contracts/rest.js';
import type { Exactly } from '../../common/exactly.js';

export class ListRemindersQueryDto
  extends PageQueryDto
  implements Exactly<ListRemindersQueryDto, ListRemindersQuery>
{
  @ApiPropertyOptional({ enum: REMINDER_STATUSES })
  @IsOptional()
  @IsIn(REMINDER_STATUSES)
  status?: ReminderStatus;
}

export class ReminderDto implements Exactly<ReminderDto, ReminderView> {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({
    format: 'uuid',
    nullable: true,
    type: String,
    description: 'The session it was made in; reminder_due is written there',
  })
  sessionId!: string | null;
  @ApiProperty() label!: string;
  @ApiProperty({ format: 'date-time' }) dueAt!: string;
  @ApiProperty({ enum: REMINDER_STATUSES }) status!: ReminderStatus;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) firedAt!: string | null;
}

export class ReminderPageDto implements Exactly<ReminderPageDto, Page<ReminderView>> {
  @ApiProperty({ type: [ReminderDto] }) items!: ReminderDto[];
  @ApiProperty({ type: String, nullable: true, description: 'null on the last page' })
  nextCursor!: string | null;
}
