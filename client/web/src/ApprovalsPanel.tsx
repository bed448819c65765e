import { useEffect, useState } from 'preact/hooks';
import type { ApprovalGrantView, GrantView } from '@hitl/sdk';
import { client } from './client';
import { errorText } from './errors';

const when = (iso: string) =>
  new Date(iso).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });

/**
 * The session's settings: the tools allowed "for this chat" (standing grants), each with a revoke
 * button. The list is read over REST, and again whenever the log grants or revokes one, so every
 * tab shows the same.
 */
export function ApprovalsPanel(props: {
  sessionId: string;
  grants: Record<string, GrantView>;
  closed: boolean;
}) {
  const [items, setItems] = useState<ApprovalGrantView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  // Changes whenever an approval_granted or approval_revoked event arrives.
  const logKey = Object.values(props.grants)
    .map((g) => `${g.tool}@${g.seq}`)
    .join(',');

  useEffect(() => {
    let live = true;
    client.api.listApprovals(props.sessionId).then(
      (list) => {
        if (!live) return;
        setItems(list.items);
        setError(null);
      },
      (err: unknown) => live && setError(errorText(err)),
    );
    return () => {
      live = false;
    };
  }, [props.sessionId, logKey]);

  const revoke = async (tool: string) => {
    setBusy(tool);
    try {
      await client.api.revokeApproval(props.sessionId, tool);
      setItems((list) => list?.filter((g) => g.tool !== tool) ?? null);
      setError(null);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  };

  return (
    <section class="settings" aria-label="Session settings" data-testid="session-settings">
      <h2>Allowed for this chat</h2>
      {items === null && !error && <p class="muted small">Loading…</p>}
      {items?.length === 0 && (
        <p class="muted small" data-testid="no-grants">
          No tool is allowed for this chat: each call asks first.
        </p>
      )}
      {items && items.length > 0 && (
        <ul>
          {items.map((g) => (
            <li key={g.tool} data-testid="grant">
              <span>
                <code>{g.tool}</code> <span class="muted small">since {when(g.grantedAt)}</span>
              </span>
              <button
                type="button"
                disabled={busy !== null || props.closed}
                aria-label={`Revoke ${g.tool}`}
                onClick={() => void revoke(g.tool)}
              >
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
