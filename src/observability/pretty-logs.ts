import type { AppConfig } from '../config/app-config.js';

/**
 * Logs are for people when someone watches a terminal during development, and JSON lines for
 * machines everywhere else (production, pipes, files, tests).
 */
export function wantsPrettyLogs(config: Pick<AppConfig, 'env'>, isTty: boolean): boolean {
  return isTty && config.env !== 'production';
}

export const PRETTY_TRANSPORT = {
  target: 'pino-pretty',
  options: {
    colorize: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    singleLine: true,
  },
};
