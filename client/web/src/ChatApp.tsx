import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ConnectionInfo, SessionsChange, SessionView } from '@hitl/sdk';
import { ChatView } from './ChatView';
import { client } from './client';
import { InboxBadge } from './InboxBadge';
import { applySessionsChange, SessionList } from './SessionList';

const PAGE = 20;

const selectedFromHash = (): string | null => /^#s=([\w-]+)$/.exec(location.hash)?.[1] ?? null;

function ConnectionBadge({ info }: { info: ConnectionInfo }) {
  const label =
    info.status === 'connected'
      ? info.transport === 'sse'
        ? 'Connected (SSE)'
        : 'Connected'
      : info.status === 'offline'
        ? 'Offline'
        : info.status === 'idle'
          ? 'Not connected'
          : info.status === 'connecting'
            ? 'Connecting…'
            : 'Reconnecting…';
  return (
    <span
      class={`conn conn-${info.status}`}
      role="status"
      aria-live="polite"
      data-testid="connection"
    >
      <span class="dot" aria-hidden="true" />
      {label}
    </span>
  );
}

export function ChatApp({ userLabel }: { userLabel: string }) {
  const [info, setInfo] = useState(client.connection);
  const [sessions, setSessions] = useState<SessionView[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(selectedFromHash());
  const [listError, setListError] = useState<string | null>(null);
  const [menuOpen, setMenuOpen] = useState(false);
  // A ref, not only state: a second click can come before the re-render that disables the button.
  const creatingRef = useRef(false);
  const [creating, setCreating] = useState(false);

  useEffect(() => {
    const off = client.onConnection(setInfo);
    client.connect();
    return () => {
      off();
      client.disconnect();
    };
  }, []);

  // The `sessions` changes heard while each list read is under way: the read may predate them.
  const reads = useRef(new Set<SessionsChange[]>());
  const reload = useCallback(async () => {
    const heard: SessionsChange[] = [];
    reads.current.add(heard);
    try {
      const page = await client.api.listSessions({ limit: PAGE, status: 'active' });
      setSessions(heard.reduce(applySessionsChange, page.items));
      setCursor(page.nextCursor);
      setListError(null);
    } catch {
      setListError('Could not load your sessions');
    } finally {
      reads.current.delete(heard);
    }
  }, []);

  // Every (re)connect reads the list again: `sessions` events sent while away are not kept.
  useEffect(() => void reload(), [reload, info.status === 'connected']);
  // Sessions created, renamed or closed in another tab (or by an operator) show up here at once.
  useEffect(
    () =>
      client.onSessions((change) => {
        for (const heard of reads.current) heard.push(change);
        setSessions((list) => applySessionsChange(list, change));
      }),
    [],
  );
  useEffect(() => {
    const onHash = () => setSelected(selectedFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const select = (id: string | null) => {
    history.replaceState(null, '', id ? `#s=${id}` : location.pathname);
    setSelected(id);
    setMenuOpen(false);
  };

  const more = async () => {
    if (!cursor) return;
    const page = await client.api.listSessions({ limit: PAGE, status: 'active', cursor });
    setSessions((s) => [...s, ...page.items.filter((x) => !s.some((y) => y.id === x.id))]);
    setCursor(page.nextCursor);
  };

  const create = async () => {
    if (creatingRef.current) return;
    creatingRef.current = true;
    setCreating(true);
    try {
      const s = await client.api.createSession(
        `Chat ${new Date().toLocaleString([], { dateStyle: 'short', timeStyle: 'short' })}`,
      );
      setSessions((list) => applySessionsChange(list, { action: 'created', session: s }));
      select(s.id);
      setListError(null);
    } catch {
      setListError('Could not create a session');
    } finally {
      creatingRef.current = false;
      setCreating(false);
    }
  };

  const close = async (id: string) => {
    await client.api.closeSession(id);
    client.leave(id);
    setSessions((list) => list.filter((s) => s.id !== id));
    if (selected === id) select(null);
  };

  return (
    <div class={`shell ${menuOpen ? 'menu-open' : ''}`}>
      <header class="top">
        <button
          type="button"
          class="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="sessions"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          Sessions
        </button>
        <strong class="brand">HITL agent</strong>
        <ConnectionBadge info={info} />
        <InboxBadge onSelect={select} />
        <span class="who muted">{userLabel}</span>
        <button type="button" onClick={() => void client.auth.logout()}>
          Sign out
        </button>
      </header>
      <SessionList
        sessions={sessions}
        selected={selected}
        hasMore={cursor !== null}
        creating={creating}
        error={listError}
        onSelect={select}
        onCreate={() => void create()}
        onClose={(id) => void close(id)}
        onMore={() => void more()}
      />
      <main class="main">
        {selected ? (
          <ChatView
            key={selected}
            sessionId={selected}
            connected={info.status === 'connected'}
            onActivity={() => void reload()}
          />
        ) : (
          <div class="empty">
            <p>Pick a session or start a new one.</p>
            <button type="button" class="primary" disabled={creating} onClick={() => void create()}>
              New session
            </button>
          </div>
        )}
      </main>
    </div>
  );
}
