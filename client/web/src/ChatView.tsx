import { useEffect, useRef, useState } from 'preact/hooks';
import {
  ApiError,
  type ChatState,
  initialChatState,
  isActiveRunStatus,
  type SessionRoom,
} from '@hitl/sdk';
import { client } from './client';
import { InteractionDialog } from './InteractionDialog';
import { Timeline } from './Timeline';

const message = (err: unknown) => (err instanceof ApiError ? err.message : 'Something went wrong');

export function ChatView(props: { sessionId: string; connected: boolean; onActivity: () => void }) {
  const [room, setRoom] = useState<SessionRoom | null>(null);
  const [state, setState] = useState<ChatState>(initialChatState);
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const bottom = useRef<HTMLDivElement>(null);
  const onActivity = useRef(props.onActivity);
  onActivity.current = props.onActivity;

  useEffect(() => {
    let off = () => undefined as unknown;
    let offEvents = () => undefined as unknown;
    let cancelled = false;
    client.join(props.sessionId).then(
      (r) => {
        if (cancelled) return;
        setRoom(r);
        setState(r.state);
        off = r.onState(setState);
        offEvents = r.onEvent((e) => {
          if (e.type === 'reminder_due') setNotice(`Reminder: ${e.data.label}`);
          if (e.type === 'task_completed' || e.type === 'user_message') onActivity.current();
        });
      },
      (err: unknown) => setLoadError(message(err)),
    );
    return () => {
      cancelled = true;
      off();
      offEvents();
      // Otherwise every session once opened stays joined: rejoined on each reconnect, its log growing.
      client.leave(props.sessionId);
    };
  }, [props.sessionId]);

  // A quiet resync when the tab comes back to the foreground (timers may have slept meanwhile).
  useEffect(() => {
    const onVisible = () => {
      if (document.visibilityState === 'visible') room?.resync().catch(() => undefined);
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, [room]);

  useEffect(() => bottom.current?.scrollIntoView({ block: 'end' }), [state.timeline]);

  const active = state.runStatus !== null && isActiveRunStatus(state.runStatus);

  const send = async (e: Event) => {
    e.preventDefault();
    const content = draft.trim();
    if (!room || !content) return;
    setError(null);
    setDraft('');
    try {
      await room.send(content);
    } catch (err) {
      setDraft(content);
      setError(message(err));
    }
  };

  const cancel = async () => {
    try {
      await room?.cancel();
    } catch (err) {
      setError(message(err));
    }
  };

  if (loadError)
    return (
      <p class="error" role="alert">
        {loadError}
      </p>
    );
  if (!room) return <p class="muted pad">Loading…</p>;

  return (
    <section class="chat" aria-label="Conversation">
      {notice && (
        <div class="notice" role="status" data-testid="reminder-notice">
          <span>{notice}</span>
          <button type="button" aria-label="Dismiss reminder" onClick={() => setNotice(null)}>
            ×
          </button>
        </div>
      )}
      <div class="timeline" aria-live="polite" data-testid="timeline">
        {state.timeline.length === 0 && (
          <p class="muted center">
            Try “what is 2+3*4”, “search replay”, “remind me to stretch in 10 minutes”, “count to
            200” or “recap”.
          </p>
        )}
        <Timeline items={state.timeline} />
        <div ref={bottom} />
      </div>
      {state.pending && (
        <InteractionDialog key={state.pending.id} pending={state.pending} room={room} />
      )}
      {state.closed ? (
        <p class="muted pad">This session is closed.</p>
      ) : (
        <form class="composer" onSubmit={(e) => void send(e)}>
          <label class="sr-only" for="message">
            Message
          </label>
          <textarea
            id="message"
            name="message"
            rows={2}
            maxLength={500}
            placeholder="Message the agent"
            value={draft}
            onInput={(e) => setDraft(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !e.shiftKey) {
                e.preventDefault();
                e.currentTarget.form?.requestSubmit();
              }
            }}
          />
          {active ? (
            <button type="button" class="danger" onClick={() => void cancel()}>
              Cancel run
            </button>
          ) : (
            <button type="submit" class="primary" disabled={!draft.trim()}>
              Send
            </button>
          )}
          {error && (
            <p class="error full" role="alert">
              {error}
            </p>
          )}
        </form>
      )}
    </section>
  );
}
