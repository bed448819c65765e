import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import {
  ROLES,
  type AuthResponse,
  type LoginRequest,
  type RefreshRequest,
  type RegisterRequest,
  type Role,
  type UserView,
} from '../../contracts/rest.js';
import type { Exactly } from '../../common/exactly.js';

const trimLower = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.trim().toLowerCase() : value;
const trim = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.trim() : value;

export class RegisterDto implements Exactly<RegisterDto, RegisterRequest> {
  @ApiProperty({ example: 'ada@example.com', maxLength: 254 })
  @Transform(trimLower)
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @ApiProperty({ minLength: 8, maxLength: 256, example: 'correct horse battery' })
  @IsString()
  @MinLength(8)
  @MaxLength(256)
  password!: string;

  @ApiPropertyOptional({ maxLength: 100, example: 'Ada' })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  displayName?: string;
}

export class LoginDto implements Exactly<LoginDto, LoginRequest> {
  @ApiProperty({ example: 'ada@example.com' })
  @Transform(trimLower)
  @IsString()
  @MinLength(1)
  @MaxLength(254)
  email!: string;

  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  password!: string;
}

export class RefreshDto implements Exactly<RefreshDto, RefreshRequest> {
  @ApiProperty({ description: 'The refresh token from the last register, login or refresh' })
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  refreshToken!: string;
}

export class UserDto implements Exactly<UserDto, UserView> {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() email!: string;
  @ApiProperty({ type: String, nullable: true }) displayName!: string | null;
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class AuthResponseDto implements Exactly<AuthResponseDto, AuthResponse> {
  @ApiProperty({ type: UserDto }) user!: UserDto;
  @ApiProperty({
    description: 'JWT access token for the Authorization: Bearer header and the socket handshake',
  })
  accessToken!: string;
  @ApiProperty({ description: 'Opaque refresh token; single use, rotated on every refresh' })
  refreshToken!: string;
  @ApiProperty({ description: 'Seconds until the access token expires', example: 900 })
  expiresIn!: number;
}
