import type { EventEmitter } from 'node:events';

export const sessionRoom = (sessionId: string): string => `session:${sessionId}`;
export const userRoom = (userId: string): string => `user:${userId}`;

/**
 * One string per room name in use. Each socket's room set held its own copy of every room name
 * it joined (a template literal is a rope, flattened into a second string when hashed); sockets of
 * the same room now share one. A name is forgotten when the adapter deletes its room.
 */
export class RoomNames {
  private readonly names = new Map<string, string>();

  /** Follows the namespace adapter's room deletions. */
  bind(adapter: EventEmitter): void {
    adapter.on('delete-room', (room: string) => this.names.delete(room));
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  of(name: string): string {
    const known = this.names.get(name);
    if (known !== undefined) return known;
    this.names.set(name, name);
    return name;
  }
}
