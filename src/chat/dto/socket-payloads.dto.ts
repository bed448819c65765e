import {
  IsDefined,
  IsIn,
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
import type * as Wire from '../../contracts/socket.js';
import { IF_BUSY_POLICIES, type IfBusyPolicy } from '../../contracts/events.js';
import type { Exactly } from '../../common/exactly.js';

// Each class validates one client event's payload and implements that event's payload type in
// the contract, so a field added to or dropped from one side alone fails the typecheck.

export class SessionCreatePayload implements Exactly<
  SessionCreatePayload,
  Wire.SessionCreatePayload
> {
  @IsOptional() @IsString() @MinLength(1) @MaxLength(200) title?: string;
}

export class SessionJoinPayload implements Exactly<SessionJoinPayload, Wire.SessionJoinPayload> {
  @IsUUID() sessionId!: string;
  @IsOptional() @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER) afterSeq?: number;
}

export class SessionLeavePayload implements Exactly<SessionLeavePayload, Wire.SessionLeavePayload> {
  @IsUUID() sessionId!: string;
}

export class MessageSendPayload implements Exactly<MessageSendPayload, Wire.MessageSendPayload> {
  @IsUUID() sessionId!: string;
  @IsString() @MaxLength(100_000) content!: string;
  @IsString()
  @Matches(CLIENT_MESSAGE_ID, {
    message: 'clientMessageId must be 1-128 letters, digits, or . _ : -',
  })
  clientMessageId!: string;
  @IsOptional() @IsIn(IF_BUSY_POLICIES) ifBusy?: IfBusyPolicy;
  /** null (the very start) passes IsOptional; a string must be an intent id. */
  @IsOptional() @IsUUID() parentIntentId?: string | null;
}

export class InteractionRespondPayload implements Exactly<
  InteractionRespondPayload,
  Wire.InteractionRespondPayload
> {
  @IsUUID() sessionId!: string;
  @IsUUID() interactionId!: string;
  @IsDefined() response!: unknown;
}

export class RunCancelPayload implements Exactly<RunCancelPayload, Wire.RunCancelPayload> {
  @IsUUID() sessionId!: string;
}

export class IntentResumePayload implements Exactly<IntentResumePayload, Wire.IntentResumePayload> {
  @IsUUID() sessionId!: string;
  @IsUUID() intentId!: string;
}

export class IntentCancelPayload implements Exactly<IntentCancelPayload, Wire.IntentCancelPayload> {
  @IsUUID() sessionId!: string;
  @IsUUID() intentId!: string;
}

export class IntentRegeneratePayload implements Exactly<
  IntentRegeneratePayload,
  Wire.IntentRegeneratePayload
> {
  @IsUUID() sessionId!: string;
  @IsUUID() intentId!: string;
}

export class SessionCheckoutPayload implements Exactly<
  SessionCheckoutPayload,
  Wire.SessionCheckoutPayload
> {
  @IsUUID() sessionId!: string;
  @IsUUID() intentId!: string;
}
