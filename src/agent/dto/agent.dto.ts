import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import type {
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
}

export class RespondDto implements Exactly<RespondDto, RespondRequest> {
  @ApiProperty({
    description:
      '{approved: boolean} or {approved: false, reason} (1..500 characters) for confirm, {values: {...}} for form, {retry: boolean} for retry',
    example: { approved: true },
  })
  @IsDefined()
  response!: unknown;
}

export class SendMessageAckDto implements Exactly<SendMessageAckDto, MessageAccepted> {
  @ApiProperty({ format: 'uuid' }) intentId!: string;
  @ApiProperty({ format: 'uuid' }) runId!: string;
  @ApiProperty({ description: 'seq of the user_message event' }) seq!: number;
}

export class RunIdDto implements Exactly<RunIdDto, RunIdResponse> {
  @ApiProperty({ format: 'uuid' }) runId!: string;
}

export class OkDto implements Exactly<OkDto, OkResponse> {
  @ApiProperty({ example: true }) ok!: boolean;
}
