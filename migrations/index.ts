import { UsersAndAuth1732000000000 } from './1732000000000-users-and-auth.js';

/** Every migration, oldest first. Listed explicitly so the ESM build needs no file globbing. */
export const MIGRATIONS = [UsersAndAuth1732000000000];
