import {
  type ConversationItem,
  isActiveRunStatus,
  type RunItem,
  type RunStatus,
  type SessionRoom,
  type StepView,
} from '@hitl/sdk';
import { Fragment } from 'preact';
import { errorText } from './errors';
import { UserTurn } from './UserTurn';

const STEP_LABELS: Record<StepView['step'], string> = {
  intent_recognition: 'Understanding the request',
  parameter_extraction: 'Collecting details',
  tool_execution: 'Running the tool',
  response_generation: 'Writing the answer',
};

// Every status the server can report, so a new one in the contract fails to compile here.
const STATUS_LABELS: Record<RunStatus, string> = {
  running: 'Working',
  awaiting_input: 'Waiting for you',
  completed: 'Done',
  cancelled: 'Cancelled',
  failed: 'Failed',
  interrupted: 'Interrupted',
};

/** A run's label: a cancel by a newer message reads as stopped, not as the user's cancel. */
function statusLabel(run: RunItem): string {
  if (run.cancelReason === 'interrupted') return 'Stopped';
  if (run.cancelReason === 'rolled_back') return 'Rolled back';
  const label = STATUS_LABELS[run.status];
  return run.cancelReason && run.cancelReason !== 'user' ? `${label} (${run.cancelReason})` : label;
}

function Steps({ run }: { run: RunItem }) {
  if (run.steps.length === 0) return null;
  const open = isActiveRunStatus(run.status);
  return (
    <details class="steps" open={open}>
      <summary>
        Thinking · {run.steps.filter((s) => s.status === 'completed').length}/{run.steps.length}{' '}
        steps
      </summary>
      <ol>
        {run.steps.map((s) => (
          <li key={s.step} class={`step step-${s.status}`}>
            <span class="step-status" aria-label={s.status}>
              {s.status === 'completed' ? '✓' : s.status === 'failed' ? '✗' : '…'}
            </span>
            {STEP_LABELS[s.step] ?? s.step}
            {s.detail && <span class="muted small"> — {s.detail}</span>}
          </li>
        ))}
      </ol>
    </details>
  );
}

function Run({ run, onRegenerate }: { run: RunItem; onRegenerate?: () => void }) {
  const streaming = run.status === 'running' && !run.final;
  return (
    <article class={`msg agent run-${run.status}`} data-testid="agent-message" aria-label="Agent">
      <header class="muted small">
        Agent{run.attempt > 1 ? ` · attempt ${run.attempt}` : ''} ·{' '}
        <span data-testid="run-status">{statusLabel(run)}</span>
      </header>
      <Steps run={run} />
      {(run.text || streaming) && (
        <p class="text" data-testid="answer">
          {run.text}
          {streaming && <span class="cursor" aria-hidden="true" />}
        </p>
      )}
      {run.error && <p class="error">{run.error}</p>}
      {onRegenerate && (
        <footer class="run-tools">
          <button type="button" class="link small" onClick={onRegenerate}>
            Regenerate
          </button>
        </footer>
      )}
    </article>
  );
}

/** The shown branch: each user message with its intent's latest answer, reminders between. */
export function Timeline(props: {
  items: ConversationItem[];
  room: SessionRoom;
  busy: boolean;
  /** The head's answer may be asked again (offered on the last answer only). */
  canRegenerate: boolean;
  onError: (message: string) => void;
}) {
  const last = props.items.findLast((it) => it.kind === 'turn');
  const regenerate = () => {
    props.room.regenerate().catch((err: unknown) => props.onError(errorText(err)));
  };
  return (
    <>
      {props.items.map((it) => {
        switch (it.kind) {
          case 'turn':
            return (
              <Fragment key={`t${it.intentId}`}>
                <UserTurn turn={it} room={props.room} busy={props.busy} onError={props.onError} />
                {it.run && (
                  <Run
                    key={`r${it.run.runId}`}
                    run={it.run}
                    onRegenerate={it === last && props.canRegenerate ? regenerate : undefined}
                  />
                )}
              </Fragment>
            );
          case 'reminder':
            return (
              <p key={`m${it.seq}`} class="reminder" data-testid="reminder">
                ⏰ Reminder: {it.label}{' '}
                <span class="muted small">(due {new Date(it.dueAt).toLocaleString()})</span>
              </p>
            );
          case 'notice':
            return (
              <p key={`n${it.seq}`} class="muted center small">
                {it.text}
              </p>
            );
        }
      })}
    </>
  );
}
