import { Inject, Injectable, Logger } from '@nestjs/common';
import { PeriodicJob } from '../common/periodic-job.js';
import { UsersService } from '../users/users.service.js';

/** How often an open stream re-reads its user, so a user disabled on another node is noticed too. */
const USER_RECHECK_MS = 15_000;

/**
 * Decides when an open SSE stream must end for reasons outside its session: its user is disabled
 * (at once on this node, within USER_RECHECK_MS on any other), or the access token that opened it
 * expires. The session's own end (closed) is seen in its event log by the stream itself.
 */
@Injectable()
export class StreamLifetimeService {
  private readonly logger = new Logger(StreamLifetimeService.name);

  constructor(@Inject(UsersService) private readonly users: UsersService) {}

  watch(userId: string, tokenExpiresAtMs: number | undefined): AbortController {
    const stop = new AbortController();
    const timers: NodeJS.Timeout[] = [];
    const changes = this.users.changes$.subscribe(({ user, disabledNow }) => {
      if (disabledNow && user.id === userId) stop.abort('user disabled');
    });
    const recheck = new PeriodicJob({
      name: 'stream user recheck',
      everyMs: USER_RECHECK_MS,
      run: () =>
        this.users.findById(userId).then(
          (u) => {
            if (!u || u.disabled) stop.abort('user disabled');
          },
          () => undefined, // a database hiccup is no reason to cut a healthy stream; the next check decides
        ),
      logger: this.logger,
    });
    recheck.start();
    if (tokenExpiresAtMs !== undefined) {
      timers.push(
        setTimeout(() => stop.abort('token expired'), Math.max(0, tokenExpiresAtMs - Date.now())),
      );
    }
    stop.signal.addEventListener('abort', () => {
      changes.unsubscribe();
      void recheck.stop();
      for (const t of timers) clearTimeout(t);
    });
    return stop;
  }
}
