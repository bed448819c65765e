import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { UserDto } from '../../auth/dto/auth.dto.js';
import { PageQueryDto } from '../../common/page-query.dto.js';
import { ROLES, type Page, type Role } from '../../contracts/rest.js';
import type {
  AdminUserView,
  ListUsersQuery,
  PatchUserRequest,
} from '../../contracts/rest-admin.js';
import type { Exactly } from '../../common/exactly.js';

export class ListUsersQueryDto
  extends PageQueryDto
  implements Exactly<ListUsersQueryDto, ListUsersQuery>
{
  @ApiPropertyOptional({ description: 'Case-insensitive search in email and display name' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  q?: string;
}

export class PatchUserDto implements Exactly<PatchUserDto, PatchUserRequest> {
  @ApiPropertyOptional({ enum: ROLES })
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;

  @ApiPropertyOptional({ description: 'A disabled user is signed out everywhere at once' })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;
}

export class AdminUserDto extends UserDto implements Exactly<AdminUserDto, AdminUserView> {
  @ApiProperty() disabled!: boolean;
}

export class AdminUserPageDto implements Exactly<AdminUserPageDto, Page<AdminUserView>> {
  @ApiProperty({ type: [AdminUserDto] }) items!: AdminUserDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}
