import { Body, Controller, Get, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator.js';
import type { AuthUser } from '../users/user.types.js';
import type { UserView } from '../users/user.view.js';
import { CurrentUser, Public } from './auth.decorators.js';
import { AuthService, type AuthResult } from './auth.service.js';
import { AuthThrottleGuard } from './auth-throttle.guard.js';
import { AuthResponseDto, LoginDto, RefreshDto, RegisterDto, UserDto } from './dto/auth.dto.js';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(@Inject(AuthService) private readonly auth: AuthService) {}

  @Public()
  @UseGuards(AuthThrottleGuard)
  @ApiOperation({ summary: 'Create an account and sign in', security: [] })
  @Post('register')
  @ApiCreatedResponse({ type: AuthResponseDto })
  @ApiErrors('VALIDATION_FAILED', 'CONFLICT', 'PAYLOAD_TOO_LARGE', 'RATE_LIMITED', 'UNAVAILABLE')
  register(@Body() dto: RegisterDto): Promise<AuthResult> {
    return this.auth.register(dto);
  }

  @Public()
  @UseGuards(AuthThrottleGuard)
  @ApiOperation({ summary: 'Sign in with email and password', security: [] })
  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({ type: AuthResponseDto })
  @ApiErrors('VALIDATION_FAILED', 'UNAUTHORIZED', 'RATE_LIMITED', 'UNAVAILABLE')
  login(@Body() dto: LoginDto): Promise<AuthResult> {
    return this.auth.login(dto);
  }

  @Public()
  @UseGuards(AuthThrottleGuard)
  @ApiOperation({ summary: 'Trade a refresh token for a new token pair', security: [] })
  @Post('refresh')
  @HttpCode(200)
  @ApiOkResponse({
    type: AuthResponseDto,
    description: 'A new access token and a new refresh token',
  })
  @ApiErrors('VALIDATION_FAILED', 'UNAUTHORIZED', 'RATE_LIMITED', 'UNAVAILABLE')
  refresh(@Body() dto: RefreshDto): Promise<AuthResult> {
    return this.auth.refresh(dto.refreshToken);
  }

  @ApiBearerAuth()
  @ApiOperation({ summary: "Revoke the refresh token's family" })
  @Post('logout')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'The refresh token family is revoked' })
  @ApiErrors('VALIDATION_FAILED', 'UNAUTHORIZED')
  logout(@CurrentUser() user: AuthUser, @Body() dto: RefreshDto): Promise<void> {
    return this.auth.logout(user.id, dto.refreshToken);
  }

  @ApiBearerAuth()
  @ApiOperation({ summary: 'The signed-in user' })
  @Get('me')
  @ApiOkResponse({ type: UserDto })
  @ApiErrors('UNAUTHORIZED')
  me(@CurrentUser() user: AuthUser): Promise<UserView> {
    return this.auth.me(user.id);
  }
}
