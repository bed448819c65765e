import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  canRegenerate,
  type ChatState,
  conversation,
  initialChatState,
  isActiveRunStatus,
  type SessionRoom,
} from '@hitl/sdk';
import { ApprovalsPanel } from './ApprovalsPanel';
import { client } from './client';
import { Composer } from './Composer';
import { errorText as message } from './errors';
import { InteractionDialog } from './InteractionDialog';
import { Timeline } from './Timeline';

export function ChatView(props: { sessionId: string; connected: boolean; onActivity: () => void }) {
  const [room, setRoom] = useState<SessionRoom | null>(null);
  const [state, setState] = useState<ChatState>(initialChatState);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [settingsOpen, setSettingsOpen] = useState(false);
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

  useEffect(() => bottom.current?.scrollIntoView({ block: 'end' }), [state.timeline, state.queue]);

  const active = state.runStatus !== null && isActiveRunStatus(state.runStatus);
  // Everything shown comes from the log, so every tab of the session shows the same.
  const items = useMemo(() => conversation(state), [state]);

  if (loadError)
    return (
      <p class="error" role="alert">
        {loadError}
      </p>
    );
  if (!room) return <p class="muted pad">Loading…</p>;

  return (
    <section class="chat" aria-label="Conversation">
      <div class="chat-bar">
        <button
          type="button"
          class="link"
          aria-expanded={settingsOpen}
          onClick={() => setSettingsOpen(!settingsOpen)}
        >
          Session settings
        </button>
      </div>
      {settingsOpen && (
        <ApprovalsPanel sessionId={props.sessionId} grants={state.grants} closed={state.closed} />
      )}
      {notice && (
        <div class="notice" role="status" data-testid="reminder-notice">
          <span>{notice}</span>
          <button type="button" aria-label="Dismiss reminder" onClick={() => setNotice(null)}>
            ×
          </button>
        </div>
      )}
      <div class="timeline" aria-live="polite" data-testid="timeline">
        {items.length === 0 && (
          <p class="muted center">
            Try “what is 2+3*4”, “search replay”, “remind me to stretch in 10 minutes”, “count to
            200” or “recap”.
          </p>
        )}
        <Timeline
          items={items}
          room={room}
          busy={active}
          canRegenerate={canRegenerate(state)}
          onError={setError}
        />
        <div ref={bottom} />
      </div>
      {error && (
        <p class="error pad" role="alert" data-testid="chat-error">
          {error}
          <button
            type="button"
            class="link"
            aria-label="Dismiss error"
            onClick={() => setError(null)}
          >
            ×
          </button>
        </p>
      )}
      {state.pending && (
        <InteractionDialog key={state.pending.id} pending={state.pending} room={room} />
      )}
      {state.closed ? (
        <p class="muted pad">This session is closed.</p>
      ) : (
        <Composer room={room} queue={state.queue} active={active} />
      )}
    </section>
  );
}
