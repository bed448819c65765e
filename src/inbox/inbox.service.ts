import { Inject, Injectable } from '@nestjs/common';
import { mapPage } from '../common/page.js';
import type { Page, PendingInteraction } from '../contracts/rest.js';
import { InboxRepository, type PendingInteractionRow } from '../runs/inbox.repository.js';

const DEFAULT_LIMIT = 20;

function toPendingInteraction(r: PendingInteractionRow): PendingInteraction {
  const { tool, title } = r.payload;
  return {
    interactionId: r.id,
    sessionId: r.session_id,
    sessionTitle: r.session_title,
    kind: r.kind,
    ...(r.kind === 'confirm' && typeof tool === 'string' ? { tool } : {}),
    ...(r.kind === 'form' && typeof title === 'string' ? { title } : {}),
    createdAt: new Date(r.created_at).toISOString(),
    expiresAt: new Date(r.expires_at).toISOString(),
  };
}

/** The user's inbox: their open questions across all of their sessions. */
@Injectable()
export class InboxService {
  constructor(@Inject(InboxRepository) private readonly repo: InboxRepository) {}

  async pending(
    userId: string,
    q: { limit?: number; cursor?: string },
  ): Promise<Page<PendingInteraction>> {
    const page = await this.repo.pending(userId, {
      limit: q.limit ?? DEFAULT_LIMIT,
      cursor: q.cursor,
    });
    return mapPage(page, toPendingInteraction);
  }
}
