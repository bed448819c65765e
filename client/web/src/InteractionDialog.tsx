import { useEffect, useRef, useState } from 'preact/hooks';
import {
  ApiError,
  ARGUMENT_FIELD_PREFIX,
  type InteractionResponse,
  type PendingInteraction,
  type SessionRoom,
} from '@hitl/sdk';
import { ConfirmBody } from './ConfirmBody';

function useSecondsLeft(expiresAt: string | undefined): number | null {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!expiresAt) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [expiresAt]);
  return expiresAt ? Math.max(0, Math.ceil((Date.parse(expiresAt) - now) / 1000)) : null;
}

const FOCUSABLE = 'input, button, textarea, select, [href], [tabindex]:not([tabindex="-1"])';

const mmss = (s: number) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;

/** `datetime-local` gives local wall time without an offset; the service wants an instant. */
const toInstant = (local: string) => {
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? local : d.toISOString();
};

export function InteractionDialog({
  pending,
  room,
}: {
  pending: PendingInteraction;
  room: SessionRoom;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [values, setValues] = useState<Record<string, string>>({});
  const left = useSecondsLeft(pending.expiresAt);
  const titleId = `dlg-${pending.id}`;

  useEffect(() => {
    const before = document.activeElement;
    const first = box.current?.querySelector<HTMLElement>(FOCUSABLE);
    first?.focus();
    // A keyboard user continues where they were once the dialog closes (answered here or elsewhere).
    return () => {
      if (before instanceof HTMLElement && before.isConnected) before.focus();
    };
  }, [pending.id]);

  /** aria-modal promises that Tab stays inside the dialog: wrap around at both ends. */
  const keepFocusInside = (e: KeyboardEvent) => {
    if (e.key !== 'Tab' || !box.current) return;
    const items = [...box.current.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(
      (el) => !(el as HTMLButtonElement).disabled,
    );
    if (items.length === 0) return;
    const [first, last] = [items[0], items[items.length - 1]];
    const inside = box.current.contains(document.activeElement);
    if (e.shiftKey && (document.activeElement === first || !inside)) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && (document.activeElement === last || !inside)) {
      e.preventDefault();
      first.focus();
    }
  };

  const answer = async (response: InteractionResponse) => {
    setBusy(true);
    setError(null);
    setFieldErrors({});
    try {
      await room.respond(pending.id, response);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'VALIDATION_FAILED') {
        // A confirmation's problems name its edited arguments; a form's, its fields.
        const fields = err.fieldErrors(
          pending.kind === 'confirm' ? ARGUMENT_FIELD_PREFIX : undefined,
        );
        setFieldErrors(fields);
        if (Object.keys(fields).length === 0) setError(err.message);
      } else setError(err instanceof ApiError ? err.message : 'Could not send the answer');
    } finally {
      setBusy(false);
    }
  };

  const countdown =
    left === null ? null : (
      <p class="muted small" data-testid="countdown">
        {left > 0 ? `Expires in ${mmss(left)}` : 'Expired'}
      </p>
    );

  return (
    <div class="backdrop">
      <div
        ref={box}
        class="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        data-testid={`dialog-${pending.kind}`}
        onKeyDown={keepFocusInside}
      >
        {pending.kind === 'confirm' && (
          <ConfirmBody
            pending={pending}
            titleId={titleId}
            busy={busy}
            fieldErrors={fieldErrors}
            countdown={countdown}
            answer={(response) => void answer(response)}
          />
        )}
        {pending.kind === 'form' && (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              const out: Record<string, string> = {};
              for (const f of pending.fields) {
                const v = values[f.name] ?? '';
                if (v !== '') out[f.name] = f.type === 'datetime' ? toInstant(v) : v;
              }
              void answer({ values: out });
            }}
          >
            <h2 id={titleId}>{pending.title}</h2>
            {pending.fields.map((f) => {
              const errId = `${titleId}-${f.name}-error`;
              return (
                <label key={f.name}>
                  {f.label}
                  {f.required ? ' *' : ''}
                  <input
                    name={f.name}
                    type={
                      f.type === 'datetime'
                        ? 'datetime-local'
                        : f.type === 'number'
                          ? 'number'
                          : 'text'
                    }
                    step={f.type === 'datetime' ? 1 : undefined}
                    required={f.required}
                    aria-invalid={fieldErrors[f.name] ? 'true' : undefined}
                    aria-describedby={fieldErrors[f.name] ? errId : undefined}
                    value={values[f.name] ?? ''}
                    onInput={(e) => {
                      // From the latest state: a second field's input can come before the
                      // first one's re-render, and a stale `values` would drop the first.
                      const value = e.currentTarget.value;
                      setValues((prev) => ({ ...prev, [f.name]: value }));
                    }}
                  />
                  {fieldErrors[f.name] && (
                    <span id={errId} class="field-error" data-testid={`error-${f.name}`}>
                      {fieldErrors[f.name]}
                    </span>
                  )}
                </label>
              );
            })}
            {countdown}
            <div class="actions">
              <button type="submit" class="primary" disabled={busy}>
                Submit
              </button>
            </div>
          </form>
        )}
        {pending.kind === 'retry' && (
          <>
            <h2 id={titleId}>That attempt failed</h2>
            <p>{pending.error}</p>
            {countdown}
            <div class="actions">
              <button
                type="button"
                class="primary"
                disabled={busy}
                onClick={() => void answer({ retry: true })}
              >
                Retry
              </button>
              <button type="button" disabled={busy} onClick={() => void answer({ retry: false })}>
                Give up
              </button>
            </div>
          </>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </div>
    </div>
  );
}
