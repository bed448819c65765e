import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/api-errors.decorator.js';

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('HITL agent backend')
    .setDescription(
      'REST API of the real-time backend for human-in-the-loop AI agents. Every error body is ' +
        '`{statusCode, code, message, details?}` with a stable `code`; the socket API is described ' +
        'by the AsyncAPI document at /asyncapi.json.',
    )
    .setVersion('0.1.0')
    // Relative: the document describes whichever host serves it (no fixed deployment URL).
    .addServer('/', 'this service')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  return SwaggerModule.createDocument(app, config, { extraModels: [ErrorResponseDto] });
}

/** Swagger UI at /docs and the OpenAPI 3 document at /docs-json. */
export function mountOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    yamlDocumentUrl: 'docs-yaml',
    customSiteTitle: 'HITL agent backend: REST API',
  });
}
