export type Role = 'user' | 'admin';
export const ROLES: readonly Role[] = ['user', 'admin'];

export interface User {
  id: string;
  email: string;
  displayName: string | null;
  role: Role;
  disabled: boolean;
  createdAt: Date;
}

export interface UserWithPassword extends User {
  passwordHash: string;
}

/** What the auth guard attaches to a request (and the socket handshake to socket.data). */
export interface AuthUser {
  id: string;
  email: string;
  role: Role;
}
