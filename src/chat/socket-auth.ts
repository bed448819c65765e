import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io';
import type { TokenService } from '../auth/token.service.js';
import type { UsersService } from '../users/users.service.js';
import type { SocketData } from '../contracts/socket.js';

type Next = (err?: Error) => void;

function refusal(code: 'UNAUTHORIZED' | 'FORBIDDEN', message: string): Error {
  const err = new Error(code) as Error & { data: { code: string; message: string } };
  err.data = { code, message };
  return err;
}

/** True for an Origin in CORS_ORIGINS or the service's own origin (the page it serves at /). */
export function originAllowed(
  origin: string,
  host: string | undefined,
  allowed: readonly string[],
): boolean {
  if (allowed.includes(origin)) return true;
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

/**
 * The /chat handshake: Origin (when a browser sends one), then the access token from the auth
 * payload. Any failure is a connect_error whose message is the code (UNAUTHORIZED or FORBIDDEN).
 */
export function handshakeMiddleware(deps: {
  tokens: TokenService;
  users: UsersService;
  corsOrigins: readonly string[];
}): (socket: Socket, next: Next) => void {
  return (socket, next) => {
    const { origin, host } = socket.handshake.headers;
    if (typeof origin === 'string' && !originAllowed(origin, host, deps.corsOrigins)) {
      next(refusal('FORBIDDEN', `Origin ${origin} is not allowed`));
      return;
    }
    const auth = socket.handshake.auth as { token?: unknown } | undefined;
    const token = auth?.token;
    if (typeof token !== 'string' || token.length === 0 || token.length > 4096) {
      next(refusal('UNAUTHORIZED', 'An access token is required in the handshake auth payload'));
      return;
    }
    let claims: { sub: string; exp: number };
    try {
      claims = deps.tokens.verifyAccess(token);
    } catch {
      next(refusal('UNAUTHORIZED', 'Invalid or expired access token'));
      return;
    }
    deps.users.findById(claims.sub).then(
      (user) => {
        if (!user || user.disabled) {
          next(refusal('UNAUTHORIZED', user ? 'This account is disabled' : 'Invalid access token'));
          return;
        }
        const data: SocketData = {
          userId: user.id,
          role: user.role,
          connectionId: randomUUID(),
          exp: claims.exp,
        };
        socket.data = data;
        next();
      },
      () => next(refusal('UNAUTHORIZED', 'Could not check the access token')),
    );
  };
}
