import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { UserDto } from '../../auth/dto/auth.dto.js';
import { ROLES, type Role } from '../../users/user.types.js';

export class ListUsersQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

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
