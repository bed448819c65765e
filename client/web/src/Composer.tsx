import { useState } from 'preact/hooks';
import type { IfBusyPolicy, QueuedIntentView, SessionRoom } from '@hitl/sdk';
import { errorText } from './errors';

/** Messages waiting for the running answer to end, each removable before it starts. */
function QueuedMessages(props: {
  queue: readonly QueuedIntentView[];
  room: SessionRoom;
  onError: (message: string) => void;
}) {
  if (props.queue.length === 0) return null;
  const remove = (intentId: string) =>
    props.room.cancelQueued(intentId).catch((err: unknown) => props.onError(errorText(err)));
  return (
    <ol class="queue" aria-label="Queue">
      {props.queue.map((q) => (
        <li key={q.intentId} class="msg user queued" data-testid="queued-message">
          <span class="muted small">Queued</span>
          <p class="text" data-testid="queued-text">
            {q.content}
          </p>
          <button
            type="button"
            class="link"
            aria-label={`Remove from queue: ${q.content}`}
            onClick={() => void remove(q.intentId)}
          >
            ×
          </button>
        </li>
      ))}
    </ol>
  );
}

/**
 * The message box, usable while the agent works: Enter (or Queue) sends after the running answer
 * (`ifBusy: "enqueue"`, which simply starts it when nothing runs), "Send now" stops the running
 * answer and starts this one at once (`"interrupt"`).
 */
export function Composer(props: {
  room: SessionRoom;
  queue: readonly QueuedIntentView[];
  active: boolean;
}) {
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string | null>(null);

  const send = async (ifBusy: IfBusyPolicy) => {
    const content = draft.trim();
    if (!content) return;
    setError(null);
    setDraft('');
    try {
      await props.room.send(content, { ifBusy });
    } catch (err) {
      setDraft(content);
      setError(errorText(err));
    }
  };

  const cancel = async () => {
    try {
      await props.room.cancel();
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <>
      <QueuedMessages queue={props.queue} room={props.room} onError={setError} />
      <form
        class="composer"
        onSubmit={(e) => {
          e.preventDefault();
          void send('enqueue');
        }}
      >
        <label class="sr-only" for="message">
          Message
        </label>
        <textarea
          id="message"
          name="message"
          rows={2}
          maxLength={500}
          placeholder={props.active ? 'Queue a follow-up' : 'Message the agent'}
          value={draft}
          onInput={(e) => setDraft(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault();
              e.currentTarget.form?.requestSubmit();
            }
          }}
        />
        <div class="composer-actions">
          {props.active ? (
            <>
              <button type="submit" disabled={!draft.trim()}>
                Queue
              </button>
              <button
                type="button"
                class="primary"
                disabled={!draft.trim()}
                onClick={() => void send('interrupt')}
              >
                Send now
              </button>
              <button type="button" class="danger" onClick={() => void cancel()}>
                Cancel run
              </button>
            </>
          ) : (
            <button type="submit" class="primary" disabled={!draft.trim()}>
              Send
            </button>
          )}
        </div>
        {error && (
          <p class="error full" role="alert">
            {error}
          </p>
        )}
      </form>
    </>
  );
}
