import { Controller, Delete, Get, HttpCode, Inject, Param } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentUser } from '../auth/auth.decorators.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import type { ApprovalsList } from '../contracts/rest.js';
import { ApprovalGrants } from '../runs/approval-grants.js';
import type { AuthUser } from '../users/user.types.js';
import { ApprovalsListDto } from './dto/approvals.dto.js';

/** A session's standing approval grants (`{approved: true, scope: "session"}`): list, revoke. */
@ApiTags('agent')
@ApiBearerAuth()
@ApiErrors('UNAUTHORIZED')
@Controller('sessions/:id/approvals')
export class ApprovalsController {
  constructor(@Inject(ApprovalGrants) private readonly grants: ApprovalGrants) {}

  @ApiOperation({ summary: 'The session’s standing grants: tools that run without asking' })
  @Get()
  @ApiOkResponse({ type: ApprovalsListDto })
  @ApiErrors('NOT_FOUND')
  async list(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<ApprovalsList> {
    return { items: await this.grants.list(id, user.id) };
  }

  @ApiOperation({ summary: 'Revoke a standing grant: the tool asks again from its next call' })
  @Delete(':tool')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Revoked; approval_revoked is in the log' })
  @ApiErrors('NOT_FOUND', 'SESSION_CLOSED')
  async revoke(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Param('tool') tool: string,
  ): Promise<void> {
    await this.grants.revoke(id, tool, user.id);
  }
}
