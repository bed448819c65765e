import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../auth/auth.decorators.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import type { Page, PendingInteraction } from '../contracts/rest.js';
import type { AuthUser } from '../users/user.types.js';
import { ListInteractionsQueryDto, PendingInteractionPageDto } from './dto/inbox.dto.js';
import { InboxService } from './inbox.service.js';

@ApiTags('interactions')
@ApiBearerAuth()
@ApiErrors('UNAUTHORIZED')
@Controller('interactions')
export class InboxController {
  constructor(@Inject(InboxService) private readonly inbox: InboxService) {}

  @ApiOperation({ summary: "List the user's open questions across all of their sessions" })
  @Get()
  @ApiOkResponse({
    type: PendingInteractionPageDto,
    description: 'Open confirmations, forms and retry offers, oldest first',
  })
  @ApiErrors('VALIDATION_FAILED')
  list(
    @CurrentUser() user: AuthUser,
    @Query() q: ListInteractionsQueryDto,
  ): Promise<Page<PendingInteraction>> {
    return this.inbox.pending(user.id, q);
  }
}
