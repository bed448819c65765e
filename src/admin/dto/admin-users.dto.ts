import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { UserDto } from '../../auth/dto/auth.dto.js';
import { PageQueryDto } from '../../common/page-query.dto.js';
import { ROLES, type Role } from '../../users/user.types.js';

export class ListUsersQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Case-insensitive search in email and display name' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  q?: string;
}

export class PatchUserDto {
  @ApiPropertyOptional({ enum: ROLES })
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;

  @ApiPropertyOptional({ description: 'A disabled user is signed out everywhere at once' })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;
}

export class AdminUserDto extends UserDto {
  @ApiProperty() disabled!: boolean;
}

export class AdminUserPageDto {
  @ApiProperty({ type: [AdminUserDto] }) items!: AdminUserDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}
