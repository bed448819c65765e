import { Controller, Delete, Get, HttpCode, Inject, Param, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentUser } from '../auth/auth.decorators.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import type { AuthUser } from '../users/user.types.js';
import { ListRemindersQueryDto, ReminderPageDto } from './dto/reminders.dto.js';
import type { Page, ReminderView } from '../contracts/rest.js';
import { RemindersService } from './reminders.service.js';

@ApiTags('reminders')
@ApiBearerAuth()
@ApiErrors('UNAUTHORIZED')
@Controller('reminders')
export class RemindersController {
  constructor(@Inject(RemindersService) private readonly reminders: RemindersService) {}

  @ApiOperation({ summary: "List the user's reminders" })
  @Get()
  @ApiOkResponse({ type: ReminderPageDto, description: "The caller's reminders, newest first" })
  @ApiErrors('VALIDATION_FAILED')
  list(
    @CurrentUser() user: AuthUser,
    @Query() q: ListRemindersQueryDto,
  ): Promise<Page<ReminderView>> {
    return this.reminders.list(user.id, q);
  }

  @ApiOperation({ summary: 'Cancel a scheduled reminder' })
  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({
    description: 'Cancelled: it will not fire (cancelling again is a no-op)',
  })
  @ApiErrors('NOT_FOUND', 'CONFLICT')
  cancel(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<void> {
    return this.reminders.cancel(user.id, id);
  }
}
