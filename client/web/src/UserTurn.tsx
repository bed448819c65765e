import { useEffect, useRef, useState } from 'preact/hooks';
import type { SessionRoom, Turn } from '@hitl/sdk';
import { errorText } from './errors';

/**
 * A user message of the shown branch: its text, "‹ n/m ›" between its versions (a checkout of the
 * sibling shows that branch), and an inline edit that sends a new version beside it.
 */
export function UserTurn(props: {
  turn: Turn;
  room: SessionRoom;
  /** A run is active: checkouts would be refused (CONFLICT). */
  busy: boolean;
  onError: (message: string) => void;
}) {
  const { turn, room } = props;
  const [editing, setEditing] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const box = useRef<HTMLTextAreaElement>(null);
  const n = turn.siblings.length;
  const open = editing !== null;
  useEffect(() => {
    if (open) box.current?.focus();
  }, [open]);

  const checkout = (step: number) => {
    const target = turn.siblings[turn.siblingIndex + step];
    if (target) room.checkout(target).catch((err: unknown) => props.onError(errorText(err)));
  };

  const submitEdit = async () => {
    const content = editing?.trim();
    if (!content || sending) return;
    setSending(true);
    try {
      // While the agent works the edit waits its turn, like any message typed then.
      await room.edit(turn.intentId, content, { ifBusy: 'enqueue' });
      setEditing(null);
    } catch (err) {
      props.onError(errorText(err));
    } finally {
      setSending(false);
    }
  };

  return (
    <div class={`turn-user${turn.rolledBack ? ' rolled-back' : ''}`} data-intent-id={turn.intentId}>
      {editing === null ? (
        <article class="msg user" data-testid="user-message" aria-label="You">
          <p class="text">{turn.content}</p>
        </article>
      ) : (
        <textarea
          class="edit"
          aria-label="Edited text"
          rows={2}
          maxLength={500}
          value={editing}
          disabled={sending}
          ref={box}
          onInput={(e) => setEditing(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              e.preventDefault();
              setEditing(null);
            } else if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault();
              void submitEdit();
            }
          }}
        />
      )}
      <div class="turn-tools small muted">
        {turn.rolledBack && (
          <span class="badge" data-testid="rolled-back">
            Rolled back
          </span>
        )}
        {n > 1 && (
          <span class="versions" role="group" aria-label="Versions">
            <button
              type="button"
              class="link"
              aria-label="Previous version"
              disabled={props.busy || turn.siblingIndex === 0}
              onClick={() => checkout(-1)}
            >
              ‹
            </button>
            <span data-testid="branch-position">
              {turn.siblingIndex + 1}/{n}
            </span>
            <button
              type="button"
              class="link"
              aria-label="Next version"
              disabled={props.busy || turn.siblingIndex === n - 1}
              onClick={() => checkout(1)}
            >
              ›
            </button>
          </span>
        )}
        {editing === null ? (
          <button type="button" class="link" onClick={() => setEditing(turn.content)}>
            Edit
          </button>
        ) : (
          <span>Enter sends · Esc cancels</span>
        )}
      </div>
    </div>
  );
}
