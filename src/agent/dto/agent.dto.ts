import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsIn, IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import { IF_BUSY_POLICIES, type IfBusyPolicy } from '../../contracts/events.js';
import type {
  CheckoutRequest,
  HeadResponse,
  MessageAccepted,
  OkResponse,
  RespondRequest,
  RunIdResponse,
  SendMessageRequest,
} from '../../contracts/rest.js';
import type { Exactly } from '../../common/exactly.js';

export const CLIENT_MESSAGE_ID = /^[\w.:-]{1,128}$/;

export class SendMessageDto implements Exactly<SendMessageDto, SendMessageRequest> {
  @ApiProperty({
    description:
      'Trimmed, 1..MAX_MESSAGE_LENGTH characters, no control characters but newline and tab',
  })
  @IsString()
  @MaxLength(100_000)
  content!: string;

  @ApiPropertyOptional({
    description: 'Idempotency key: the same id again returns the first ack',
    maxLength: 128,
  })
  @IsOptional()
  @IsString()
  @Matches(CLIENT_MESSAGE_ID, {
    message: 'clientMessageId must be 1-128 letters, digits, or . _ : -',
  })
  clientMessageId?: string;

  @ApiPropertyOptional({
    enum: IF_BUSY_POLICIES,
    default: 'reject',
    description:
      'While a run goes or intents are queued: reject (SESSION_BUSY), enqueue, interrupt the run, or roll it back',
  })
  @IsOptional()
  @IsIn(IF_BUSY_POLICIES)
  ifBusy?: IfBusyPolicy;

  @ApiPropertyOptional({
    format: 'uuid',
    nullable: true,
    description: 'The intent this message follows instead of the head (editing); null: the start',
  })
  @IsOptional()
  @IsUUID()
  parentIntentId?: string | null;
}

export class CheckoutDto implements Exactly<CheckoutDto, CheckoutRequest> {
  @ApiProperty({ format: 'uuid', description: 'The intent to make the head' })
  @IsUUID()
  intentId!: string;
}

export class HeadDto implements Exactly<HeadDto, HeadResponse> {
  @ApiProperty({ format: 'uuid' }) headIntentId!: string;
}

export class RespondDto implements Exactly<RespondDto, RespondRequest> {
  @ApiProperty({
    description:
      '{approved: true, arguments?, scope?: "once" | "session"} (arguments: run the tool with these instead, checked against its schema; session: a standing grant of the tool) or {approved: false, reason?} (1..500 characters) for confirm, {values: {...}} for form, {retry: boolean} for retry',
    example: { approved: true },
  })
  @IsDefined()
  response!: unknown;
}

export class SendMessageAckDto implements Exactly<SendMessageAckDto, MessageAccepted> {
  @ApiProperty({ format: 'uuid' }) intentId!: string;
  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'null while the intent is queued',
  })
  runId!: string | null;
  @ApiProperty({ description: 'seq of the user_message event' }) seq!: number;
  @ApiPropertyOptional({ enum: [true], description: 'present when the intent was queued' })
  queued?: true;
  @ApiPropertyOptional({ minimum: 1, description: 'place in the queue when queued, 1 = next' })
  position?: number;
}

export class RunIdDto implements Exactly<RunIdDto, RunIdResponse> {
  @ApiProperty({ format: 'uuid' }) runId!: string;
}

export class OkDto implements Exactly<OkDto, OkResponse> {
  @ApiProperty({ example: true }) ok!: boolean;
}
