import {
  IsDefined,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { CLIENT_MESSAGE_ID } from '../../agent/dto/agent.dto.js';

export class SessionCreatePayload {
  @IsOptional() @IsString() @MinLength(1) @MaxLength(200) title?: string;
}

export class SessionJoinPayload {
  @IsUUID() sessionId!: string;
  @IsOptional() @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER) afterSeq?: number;
}

export class SessionLeavePayload {
  @IsUUID() sessionId!: string;
}

export class MessageSendPayload {
  @IsUUID() sessionId!: string;
  @IsString() @MaxLength(100_000) content!: string;
  @IsString()
  @Matches(CLIENT_MESSAGE_ID, {
    message: 'clientMessageId must be 1-128 letters, digits, or . _ : -',
  })
  clientMessageId!: string;
}

export class InteractionRespondPayload {
  @IsUUID() sessionId!: string;
  @IsUUID() interactionId!: string;
  @IsDefined() response!: unknown;
}

export class RunCancelPayload {
  @IsUUID() sessionId!: string;
}

export class IntentResumePayload {
  @IsUUID() sessionId!: string;
  @IsUUID() intentId!: string;
}
