import type { User } from './user.types.js';

/** The public JSON of a user (never the password hash). */
export interface UserView {
  id: string;
  email: string;
  displayName: string | null;
  role: User['role'];
  createdAt: string;
}

export function toUserView(u: User): UserView {
  return {
    id: u.id,
    email: u.email,
    displayName: u.displayName,
    role: u.role,
    createdAt: u.createdAt.toISOString(),
  };
}
