import { Module } from '@nestjs/common';
import { RetentionService } from './retention.service.js';

/** Periodic deletion of rows that are no longer needed (see retention-cleanups.ts). */
@Module({ providers: [RetentionService], exports: [RetentionService] })
export class RetentionModule {}
