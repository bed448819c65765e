import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io';
import type { AuthThrottleService } from '../auth/auth-throttle.service.js';
import type { TokenService } from '../auth/token.service.js';
import { clientAddress } from '../common/client-address.js';
import { DATABASE_RETRY_AFTER_MS } from '../database/database-unavailable.js';
import type { UsersService } from '../users/users.service.js';
import type { SocketData } from '../contracts/socket.js';

type Next = (err?: Error) => void;

/**
 * randomUUID() returns a rope of 16 two-character pieces; kept in socket.data it held about
 * 450 bytes per connection, its flat copy 56.
 */
const flatUuid = (): string => Buffer.from(randomUUID(), 'latin1').toString('latin1');

type RefusalCode = 'UNAUTHORIZED' | 'FORBIDDEN' | 'RATE_LIMITED' | 'UNAVAILABLE';

function refusal(code: RefusalCode, message: string, retryAfterMs?: number): Error {
  const err = new Error(code) as Error & {
    data: { code: string; message: string; retryAfterMs?: number };
  };
  err.data = { code, message, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  return err;
}

/** True for an Origin in CORS_ORIGINS or the service's own origin (the page it serves at /). */
function originAllowed(
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
 * payload. Any failure is a connect_error whose message is the code (UNAUTHORIZED, FORBIDDEN,
 * RATE_LIMITED after too many failures from the address, UNAVAILABLE with `retryAfterMs` when
 * the database cannot be read: the token may well be valid, so the client keeps it).
 */
export function handshakeMiddleware(deps: {
  tokens: TokenService;
  users: UsersService;
  throttle: AuthThrottleService;
  corsOrigins: readonly string[];
}): (socket: Socket, next: Next) => void {
  return (socket, rawNext) => {
    const address = clientAddress(socket.request);
    const blockedMs = deps.throttle.handshakeRetryAfterMs(address);
    if (blockedMs !== undefined) {
      rawNext(refusal('RATE_LIMITED', 'Too many failed handshakes', blockedMs));
      return;
    }
    // Every refusal the client caused counts against its address.
    const next: Next = (err) => {
      const code = (err as { data?: { code?: string } } | undefined)?.data?.code;
      if (!err || code === 'UNAVAILABLE') {
        rawNext(err);
        return;
      }
      deps.throttle.recordHandshakeFailure(address).then(
        (retryAfterMs) =>
          rawNext(
            retryAfterMs === undefined
              ? err
              : refusal('RATE_LIMITED', 'Too many failed handshakes', retryAfterMs),
          ),
        () => rawNext(err),
      );
    };
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
          // A literal: one string for every socket, not a copy per connection.
          role: user.role === 'admin' ? 'admin' : 'user',
          connectionId: flatUuid(),
          exp: claims.exp,
        };
        socket.data = data;
        // Checked and no longer needed: a live connection does not keep its bearer token around.
        if (auth) delete auth.token;
        next();
      },
      () =>
        next(
          refusal(
            'UNAVAILABLE',
            'The database is unreachable; keep the token and retry',
            DATABASE_RETRY_AFTER_MS,
          ),
        ),
    );
  };
}
