import type { SessionsChange, SessionView } from '@hitl/sdk';

/**
 * The list after a `sessions` event: the list shows active sessions, newest first, so a created
 * one goes on top (once: this tab's own create arrives here too), a renamed one changes in place
 * and a closed one leaves.
 */
export function applySessionsChange(list: SessionView[], change: SessionsChange): SessionView[] {
  const { action, session } = change;
  const rest = list.filter((s) => s.id !== session.id);
  if (action === 'closed' || session.status !== 'active') return rest;
  if (action === 'created') return rest.length === list.length ? [session, ...list] : list;
  return list.map((s) => (s.id === session.id ? session : s));
}

const when = (iso: string) =>
  new Date(iso).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });

export function SessionList(props: {
  sessions: SessionView[];
  selected: string | null;
  hasMore: boolean;
  /** A create is under way: the button waits for it, so a double click makes one session. */
  creating: boolean;
  error: string | null;
  onSelect: (id: string) => void;
  onCreate: () => void;
  onClose: (id: string) => void;
  onMore: () => void;
}) {
  return (
    <nav id="sessions" class="sessions" aria-label="Sessions">
      <button
        type="button"
        class="primary new"
        disabled={props.creating}
        aria-busy={props.creating}
        onClick={props.onCreate}
      >
        New session
      </button>
      {props.error && <p class="error">{props.error}</p>}
      <ul>
        {props.sessions.map((s) => (
          <li key={s.id} class={s.id === props.selected ? 'current' : ''}>
            <button
              type="button"
              class="pick"
              aria-current={s.id === props.selected ? 'true' : undefined}
              onClick={() => props.onSelect(s.id)}
            >
              <span class="title">{s.title ?? 'Untitled session'}</span>
              <span class="muted small">{when(s.lastActivityAt)}</span>
            </button>
            <button
              type="button"
              class="close"
              aria-label={`Close session ${s.title ?? 'Untitled session'}`}
              onClick={() => props.onClose(s.id)}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      {props.hasMore && (
        <button type="button" onClick={props.onMore}>
          Load more
        </button>
      )}
    </nav>
  );
}
