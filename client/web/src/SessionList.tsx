import type { SessionView } from '@hitl/sdk';

const when = (iso: string) =>
  new Date(iso).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });

export function SessionList(props: {
  sessions: SessionView[];
  selected: string | null;
  hasMore: boolean;
  error: string | null;
  onSelect: (id: string) => void;
  onCreate: () => void;
  onClose: (id: string) => void;
  onMore: () => void;
}) {
  return (
    <nav id="sessions" class="sessions" aria-label="Sessions">
      <button type="button" class="primary new" onClick={props.onCreate}>
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
