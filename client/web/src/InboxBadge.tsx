import { useEffect, useRef, useState } from 'preact/hooks';
import type { InboxItem } from '@hitl/sdk';
import { client } from './client';

const what = (i: InboxItem) =>
  i.kind === 'confirm'
    ? `Allow “${i.tool ?? 'a tool'}”?`
    : i.kind === 'form'
      ? (i.title ?? 'A form to fill in')
      : 'Retry a failed answer?';

/**
 * The header's inbox: how many questions wait for the user across all their sessions, live, and
 * a list of them; picking one opens its session (where its dialog is).
 */
export function InboxBadge({ onSelect }: { onSelect: (sessionId: string) => void }) {
  const [items, setItems] = useState<readonly InboxItem[]>(client.inbox.items);
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => client.inbox.onChange(setItems), []);
  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (!box.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', onDown);
    return () => document.removeEventListener('mousedown', onDown);
  }, [open]);

  const count = items.length;
  return (
    <div class="inbox" ref={box} onKeyDown={(e) => e.key === 'Escape' && setOpen(false)}>
      <button
        type="button"
        aria-expanded={open}
        aria-controls="inbox-list"
        aria-label={`Inbox: ${count} waiting`}
        data-testid="inbox"
        onClick={() => setOpen(!open)}
      >
        Inbox{' '}
        <span class={`count ${count > 0 ? 'waiting' : ''}`} data-testid="inbox-count">
          {count}
        </span>
      </button>
      {open && (
        <ul id="inbox-list" class="inbox-list" data-testid="inbox-list">
          {count === 0 && <li class="muted small">Nothing waits for you.</li>}
          {items.map((i) => (
            <li key={i.interactionId}>
              <button
                type="button"
                data-testid="inbox-item"
                onClick={() => {
                  setOpen(false);
                  onSelect(i.sessionId);
                }}
              >
                <span class="title">{i.sessionTitle ?? 'Untitled session'}</span>
                <span class="muted small">{what(i)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
