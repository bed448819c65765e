import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { ApprovalGrantView, ApprovalsList } from '../../contracts/rest.js';
import type { Exactly } from '../../common/exactly.js';

export class GrantedByDto implements Exactly<GrantedByDto, ApprovalGrantView['grantedBy']> {
  @ApiProperty({ format: 'uuid' }) userId!: string;
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'The connection the approving answer came from (none for an answer over REST)',
  })
  connectionId?: string;
}

export class ApprovalGrantDto implements Exactly<ApprovalGrantDto, ApprovalGrantView> {
  @ApiProperty({ example: 'search_docs' }) tool!: string;
  @ApiProperty({ enum: ['session'] }) scope!: 'session';
  @ApiProperty({ format: 'date-time' }) grantedAt!: string;
  @ApiProperty({ type: GrantedByDto }) grantedBy!: GrantedByDto;
  @ApiProperty({ format: 'uuid', description: 'The confirmation whose answer made the grant' })
  interactionId!: string;
}

export class ApprovalsListDto implements Exactly<ApprovalsListDto, ApprovalsList> {
  @ApiProperty({ type: [ApprovalGrantDto], description: 'Every standing grant, oldest first' })
  items!: ApprovalGrantDto[];
}
