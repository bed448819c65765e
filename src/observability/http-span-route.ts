import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import type { Request } from 'express';
import type { Observable } from 'rxjs';

/**
 * Names each HTTP request's span after its route (`POST /sessions/:id/messages`) and sets
 * `http.route`: the HTTP instrumentation sees the request before Express has routed it, so it
 * can only name the span by its method. Installed only with tracing on.
 */
export class HttpSpanRoute implements NestInterceptor {
  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const span = trace.getActiveSpan();
    if (span?.isRecording() && ctx.getType() === 'http') {
      const req = ctx.switchToHttp().getRequest<Request>();
      const path = (req.route as { path?: string } | undefined)?.path;
      if (path) {
        const route = req.baseUrl + path;
        span.setAttribute('http.route', route);
        span.updateName(`${req.method} ${route}`);
      }
    }
    return next.handle();
  }
}
