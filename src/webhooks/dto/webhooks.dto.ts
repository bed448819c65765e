import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  MaxLength,
} from 'class-validator';
import type { Exactly } from '../../common/exactly.js';
import type { Page } from '../../contracts/rest.js';
import {
  WEBHOOK_EVENT_TYPES,
  type CreateWebhookRequest,
  type CreatedWebhook,
  type WebhookDeliveryView,
  type WebhookEndpointList,
  type WebhookEndpointView,
  type WebhookEventType,
} from '../../contracts/rest-admin.js';

const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;

export class CreateWebhookDto implements Exactly<CreateWebhookDto, CreateWebhookRequest> {
  @ApiProperty({
    example: 'https://hooks.example.com/hitl',
    description:
      'http(s); loopback, private and link-local addresses are refused unless WEBHOOK_ALLOW_PRIVATE=true',
  })
  @IsString()
  @MaxLength(2000)
  url!: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true })
  events!: WebhookEventType[];

  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  description?: string;
}

export class WebhookEndpointDto implements Exactly<WebhookEndpointDto, WebhookEndpointView> {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() url!: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true }) events!: WebhookEventType[];
  @ApiProperty({ type: String, nullable: true }) description!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class CreatedWebhookDto
  extends WebhookEndpointDto
  implements Exactly<CreatedWebhookDto, CreatedWebhook>
{
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description: 'The signing secret (Standard Webhooks form); shown this once only',
  })
  secret!: string;
}

export class WebhookEndpointListDto implements Exactly<
  WebhookEndpointListDto,
  WebhookEndpointList
> {
  @ApiProperty({ type: [WebhookEndpointDto] }) items!: WebhookEndpointDto[];
}

export class WebhookDeliveryDto implements Exactly<WebhookDeliveryDto, WebhookDeliveryView> {
  @ApiProperty({ format: 'uuid', description: 'Also the `webhook-id` header of every attempt' })
  id!: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES }) eventType!: WebhookEventType;
  @ApiProperty() attempts!: number;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status!: WebhookDeliveryView['status'];
  @ApiPropertyOptional() lastStatusCode?: number;
  @ApiPropertyOptional() lastError?: string;
  @ApiPropertyOptional({ format: 'date-time' }) nextAttemptAt?: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiPropertyOptional({ format: 'date-time' }) deliveredAt?: string;
}

export class WebhookDeliveryPageDto implements Exactly<
  WebhookDeliveryPageDto,
  Page<WebhookDeliveryView>
> {
  @ApiProperty({ type: [WebhookDeliveryDto] }) items!: WebhookDeliveryDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}
