import { Controller, Get, Inject } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator.js';
import type { ToolsList } from '../contracts/rest.js';
import { ToolsListDto } from './dto/tools.dto.js';
import { ToolRegistry } from './tools/tool-registry.js';

/**
 * The tools the agent offers, with their parameter schemas: a client editing a confirmation's
 * arguments builds its form from the schema the server will check them against.
 */
@ApiTags('agent')
@ApiBearerAuth()
@ApiErrors('UNAUTHORIZED')
@Controller('tools')
export class ToolsController {
  constructor(@Inject(ToolRegistry) private readonly tools: ToolRegistry) {}

  @ApiOperation({ summary: 'The tools the agent may call, with their parameter JSON schemas' })
  @Get()
  @ApiOkResponse({ type: ToolsListDto })
  list(): ToolsList {
    return {
      items: this.tools.all().map((t) => ({
        name: t.name,
        description: t.description,
        parameters: t.parameters,
        needsConfirmation: t.needsConfirmation,
      })),
    };
  }
}
