import { Global, Module } from '@nestjs/common';
import { FaultPoints } from './fault-points.js';

/**
 * The test-only fault points (fault-points.ts), one instance for the whole application: a test
 * holds a point through it, and the code of every folder reaches the same one.
 */
@Global()
@Module({ providers: [FaultPoints], exports: [FaultPoints] })
export class FaultPointsModule {}
