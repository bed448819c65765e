import type { ComponentChildren } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import {
  type ArgumentField,
  argumentFields,
  argumentsOf,
  type ArgumentValues,
  type ConfirmResponse,
  DENY_REASON_MAX,
  initialValues,
  type PendingInteraction,
} from '@hitl/sdk';
import { useToolSchema } from './tools';

type Confirm = Extract<PendingInteraction, { kind: 'confirm' }>;

/** Where the service names a denial's reason in VALIDATION_FAILED. */
const REASON_FIELD = 'response.reason';

function ArgumentInput(props: {
  field: ArgumentField;
  value: string | boolean;
  error?: string;
  idPrefix: string;
  onChange: (value: string | boolean) => void;
}) {
  const { field: f, value, error } = props;
  const errId = `${props.idPrefix}-${f.name}-error`;
  const common = {
    name: f.name,
    'aria-invalid': error ? ('true' as const) : undefined,
    'aria-describedby': error ? errId : undefined,
  };
  const text = typeof value === 'string' ? value : '';
  return (
    <label class={f.kind === 'boolean' ? 'check' : undefined}>
      <span>
        {f.name}
        {f.required ? ' *' : ''}
        {f.description && <span class="muted small"> — {f.description}</span>}
      </span>
      {f.kind === 'boolean' ? (
        <input
          {...common}
          type="checkbox"
          checked={value === true}
          onChange={(e) => props.onChange(e.currentTarget.checked)}
        />
      ) : f.kind === 'choice' ? (
        <select {...common} value={text} onChange={(e) => props.onChange(e.currentTarget.value)}>
          {!f.required && <option value="">—</option>}
          {f.choices!.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      ) : f.kind === 'json' ? (
        <textarea
          {...common}
          rows={3}
          value={text}
          onInput={(e) => props.onChange(e.currentTarget.value)}
        />
      ) : (
        <input
          {...common}
          type="text"
          inputMode={f.kind === 'number' ? 'decimal' : undefined}
          value={text}
          onInput={(e) => props.onChange(e.currentTarget.value)}
        />
      )}
      {error && (
        <span id={errId} class="field-error" data-testid={`error-arg-${f.name}`}>
          {error}
        </span>
      )}
    </label>
  );
}

/**
 * A confirmation: the call's arguments as a form built from the tool's parameter schema (edit
 * them, and the tool runs with the edited ones), allowed once or for the rest of this chat, or
 * denied with an optional reason. The service's field problems show next to their input.
 */
export function ConfirmBody(props: {
  pending: Confirm;
  titleId: string;
  busy: boolean;
  fieldErrors: Record<string, string>;
  countdown: ComponentChildren;
  answer: (response: ConfirmResponse) => void;
}) {
  const { pending, titleId, busy, fieldErrors } = props;
  const schema = useToolSchema(pending.tool);
  const fields = useMemo(
    () => argumentFields(schema, pending.arguments),
    [schema, pending.arguments],
  );
  const [values, setValues] = useState<ArgumentValues>({});
  const [edited, setEdited] = useState(false);
  const [reason, setReason] = useState('');
  const [local, setLocal] = useState<Record<string, string>>({});
  const shown = { ...initialValues(fields, pending.arguments), ...values };
  const errors = { ...fieldErrors, ...local };
  const names = new Set(fields.map((f) => f.name));
  const others = Object.entries(errors).filter(([k]) => !names.has(k) && k !== REASON_FIELD);

  const allow = (scope: 'once' | 'session') => {
    setLocal({});
    if (!edited) return props.answer({ approved: true, scope });
    // Only the inputs the person changed are read back: the rest go as asked.
    const { args, problems } = argumentsOf(fields, shown, pending.arguments, Object.keys(values));
    if (Object.keys(problems).length > 0) return setLocal(problems);
    props.answer({ approved: true, arguments: args, scope });
  };
  const deny = () => {
    const why = reason.trim();
    props.answer(why ? { approved: false, reason: why } : { approved: false });
  };

  return (
    <>
      <h2 id={titleId}>Allow the tool “{pending.tool}”?</h2>
      <p>{pending.message}</p>
      <form
        aria-label="Arguments"
        data-testid="confirm-arguments"
        onSubmit={(e) => {
          e.preventDefault();
          allow('once');
        }}
      >
        {fields.length === 0 && <p class="muted small">No arguments.</p>}
        {fields.map((f) => (
          <ArgumentInput
            key={f.name}
            field={f}
            value={shown[f.name]}
            error={errors[f.name]}
            idPrefix={titleId}
            onChange={(value) => {
              setEdited(true);
              setValues((prev) => ({ ...prev, [f.name]: value }));
            }}
          />
        ))}
        {others.map(([k, v]) => (
          <p key={k} class="field-error">
            {k.replace(/^response\./, '')}: {v}
          </p>
        ))}
        {props.countdown}
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            Allow once
          </button>
          <button type="button" disabled={busy} onClick={() => allow('session')}>
            Allow for this chat
          </button>
        </div>
      </form>
      <form
        class="deny"
        onSubmit={(e) => {
          e.preventDefault();
          deny();
        }}
      >
        <label>
          Reason for denying (optional)
          <input
            name="reason"
            maxLength={DENY_REASON_MAX}
            value={reason}
            aria-invalid={errors[REASON_FIELD] ? 'true' : undefined}
            onInput={(e) => setReason(e.currentTarget.value)}
          />
          {errors[REASON_FIELD] && (
            <span class="field-error" data-testid="error-reason">
              {errors[REASON_FIELD]}
            </span>
          )}
        </label>
        <div class="actions">
          <button type="submit" disabled={busy}>
            Deny
          </button>
        </div>
      </form>
    </>
  );
}
