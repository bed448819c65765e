import { Inject, Injectable } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { AuthThrottleService } from '../auth/auth-throttle.service.js';
import { TokenService } from '../auth/token.service.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { UsersService } from '../users/users.service.js';
import { AuthExpiry } from './auth-expiry.js';
import { userRoom } from './room-names.js';
import { handshakeMiddleware } from './socket-auth.js';
import type { ChatNamespace, ChatSocket } from './socket-handlers.js';

/**
 * Who may stay connected to /chat: the handshake checks Origin and the access token, a socket
 * whose token expires is told (`auth_expired`) and disconnected, and every socket of a user who
 * is disabled is disconnected, on whichever node it is connected.
 */
@Injectable()
export class SocketAuthentication {
  private userChanges: Subscription | undefined;
  private expiry: AuthExpiry | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(TokenService) private readonly tokens: TokenService,
    @Inject(AuthThrottleService) private readonly throttle: AuthThrottleService,
    @Inject(UsersService) private readonly users: UsersService,
  ) {}

  attach(ns: ChatNamespace): void {
    ns.use(
      handshakeMiddleware({
        tokens: this.tokens,
        users: this.users,
        throttle: this.throttle,
        corsOrigins: this.config.http.corsOrigins,
      }),
    );
    this.userChanges = this.users.changes$.subscribe(({ user, disabledNow }) => {
      if (disabledNow) ns.in(userRoom(user.id)).disconnectSockets();
    });
    this.expiry = new AuthExpiry(
      () => ns.sockets.values(),
      (socket) => {
        socket.emit('auth_expired', {
          message: 'The access token expired; reconnect with a fresh one',
        });
        socket.disconnect();
      },
    );
  }

  /** A socket just connected: its token's expiry is watched from now. */
  connected(socket: ChatSocket): void {
    this.expiry?.track(socket);
  }

  stop(): void {
    this.userChanges?.unsubscribe();
    this.expiry?.stop();
  }
}
