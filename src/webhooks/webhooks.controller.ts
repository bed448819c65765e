import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Roles } from '../auth/auth.decorators.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { PageQueryDto } from '../common/page-query.dto.js';
import type { Page } from '../contracts/rest.js';
import type {
  CreatedWebhook,
  WebhookDeliveryView,
  WebhookEndpointList,
  WebhookEndpointView,
} from '../contracts/rest-admin.js';
import {
  CreateWebhookDto,
  CreatedWebhookDto,
  WebhookDeliveryPageDto,
  WebhookEndpointDto,
  WebhookEndpointListDto,
} from './dto/webhooks.dto.js';
import { WebhooksService } from './webhooks.service.js';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@ApiErrors('UNAUTHORIZED', 'FORBIDDEN')
@Controller('admin/webhooks')
export class WebhooksController {
  constructor(@Inject(WebhooksService) private readonly webhooks: WebhooksService) {}

  @ApiOperation({ summary: 'Register a webhook endpoint (its secret is shown once)' })
  @Post()
  @ApiCreatedResponse({ type: CreatedWebhookDto })
  @ApiErrors('VALIDATION_FAILED')
  create(@Body() body: CreateWebhookDto): Promise<CreatedWebhook> {
    return this.webhooks.create(body);
  }

  @ApiOperation({ summary: 'List webhook endpoints' })
  @Get()
  @ApiOkResponse({ type: WebhookEndpointListDto, description: 'Oldest first, without secrets' })
  list(): Promise<WebhookEndpointList> {
    return this.webhooks.list();
  }

  @ApiOperation({ summary: 'Get a webhook endpoint' })
  @Get(':id')
  @ApiOkResponse({ type: WebhookEndpointDto })
  @ApiErrors('NOT_FOUND')
  get(@Param('id') id: string): Promise<WebhookEndpointView> {
    return this.webhooks.get(id);
  }

  @ApiOperation({ summary: 'Delete a webhook endpoint and its deliveries' })
  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted; nothing more is sent to it' })
  @ApiErrors('NOT_FOUND')
  delete(@Param('id') id: string): Promise<void> {
    return this.webhooks.delete(id);
  }

  @ApiOperation({ summary: "List a webhook endpoint's deliveries" })
  @Get(':id/deliveries')
  @ApiOkResponse({ type: WebhookDeliveryPageDto, description: 'Newest first' })
  @ApiErrors('NOT_FOUND', 'VALIDATION_FAILED')
  deliveries(
    @Param('id') id: string,
    @Query() q: PageQueryDto,
  ): Promise<Page<WebhookDeliveryView>> {
    return this.webhooks.deliveries(id, q);
  }
}
