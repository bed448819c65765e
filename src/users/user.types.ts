import type { Role } from '../contracts/rest.js';

export type { Role };

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
