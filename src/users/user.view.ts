import type { UserView } from '../contracts/rest.js';
import type { User } from './user.types.js';

/** The public JSON of a user (never the password hash) is the contract's `UserView`. */
export type { UserView };

export function toUserView(u: User): UserView {
  return {
    id: u.id,
    email: u.email,
    displayName: u.displayName,
    role: u.role,
    createdAt: u.createdAt.toISOString(),
  };
}
