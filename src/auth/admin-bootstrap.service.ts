import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { UsersService } from '../users/users.service.js';
import { AuthService } from './auth.service.js';

/** With ADMIN_EMAIL/ADMIN_PASSWORD set, that admin exists (and has that password) after start. */
@Injectable()
export class AdminBootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminBootstrapService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(UsersService) private readonly users: UsersService,
    @Inject(AuthService) private readonly auth: AuthService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const admin = this.config.admin;
    if (!admin) return;
    const user = await this.users.ensureAdmin(
      admin.email,
      await this.auth.hashPassword(admin.password),
    );
    this.logger.log({ userId: user.id }, 'configured admin ensured');
  }
}
