import { Body, Controller, Get, Inject, Param, Patch, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles } from '../auth/auth.decorators.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import type { AuthUser } from '../users/user.types.js';
import type { Page } from '../contracts/rest.js';
import type { AdminUserView } from '../contracts/rest-admin.js';
import { AdminUsersService } from './admin-users.service.js';
import {
  AdminUserDto,
  AdminUserPageDto,
  ListUsersQueryDto,
  PatchUserDto,
} from './dto/admin-users.dto.js';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@ApiErrors('UNAUTHORIZED', 'FORBIDDEN')
@Controller('admin/users')
export class AdminUsersController {
  constructor(@Inject(AdminUsersService) private readonly service: AdminUsersService) {}

  @ApiOperation({ summary: 'List users' })
  @Get()
  @ApiOkResponse({ type: AdminUserPageDto })
  @ApiErrors('VALIDATION_FAILED')
  list(@Query() query: ListUsersQueryDto): Promise<Page<AdminUserView>> {
    return this.service.list(query);
  }

  @ApiOperation({ summary: "Change a user's role or disable them" })
  @Patch(':id')
  @ApiOkResponse({ type: AdminUserDto })
  @ApiErrors('VALIDATION_FAILED', 'NOT_FOUND', 'CONFLICT')
  update(
    @CurrentUser() actor: AuthUser,
    @Param('id') id: string,
    @Body() dto: PatchUserDto,
  ): Promise<AdminUserView> {
    return this.service.update(actor.id, id, dto);
  }
}
