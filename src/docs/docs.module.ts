import { Module } from '@nestjs/common';
import { AsyncApiJsonController, DocsController } from './docs.controller.js';

@Module({ controllers: [DocsController, AsyncApiJsonController] })
export class DocsModule {}
