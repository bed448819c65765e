import { isActiveRunStatus, type RunStatus, type StepView, type TimelineItem } from '@hitl/sdk';

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

type RunItem = Extract<TimelineItem, { kind: 'run' }>;

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

function Run({ run }: { run: RunItem }) {
  const streaming = run.status === 'running' && !run.final;
  return (
    <article class={`msg agent run-${run.status}`} data-testid="agent-message" aria-label="Agent">
      <header class="muted small">
        Agent{run.attempt > 1 ? ` · attempt ${run.attempt}` : ''} ·{' '}
        <span data-testid="run-status">{STATUS_LABELS[run.status]}</span>
        {run.cancelReason ? ` (${run.cancelReason})` : ''}
      </header>
      <Steps run={run} />
      {(run.text || streaming) && (
        <p class="text" data-testid="answer">
          {run.text}
          {streaming && <span class="cursor" aria-hidden="true" />}
        </p>
      )}
      {run.error && <p class="error">{run.error}</p>}
    </article>
  );
}

export function Timeline({ items }: { items: TimelineItem[] }) {
  return (
    <>
      {items.map((it) => {
        switch (it.kind) {
          case 'user':
            return (
              <article
                key={`u${it.seq}`}
                class="msg user"
                data-testid="user-message"
                aria-label="You"
              >
                <p class="text">{it.content}</p>
              </article>
            );
          case 'run':
            return <Run key={`r${it.runId}`} run={it} />;
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
