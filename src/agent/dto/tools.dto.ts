import { ApiProperty } from '@nestjs/swagger';
import type { ToolsList, ToolView } from '../../contracts/rest.js';
import type { Exactly } from '../../common/exactly.js';

export class ToolDto implements Exactly<ToolDto, ToolView> {
  @ApiProperty({ example: 'search_docs' }) name!: string;
  @ApiProperty() description!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: "JSON schema of the tool's arguments (what edited arguments are checked against)",
  })
  parameters!: Record<string, unknown>;
  @ApiProperty({ description: 'Whether a call asks for confirmation (request_confirmation)' })
  needsConfirmation!: boolean;
}

export class ToolsListDto implements Exactly<ToolsListDto, ToolsList> {
  @ApiProperty({ type: [ToolDto], description: 'Every tool the agent offers' })
  items!: ToolDto[];
}
