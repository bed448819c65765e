import { useState } from 'preact/hooks';
import { ApiError } from '@hitl/sdk';
import { client } from './client';

export function AuthScreen() {
  const [mode, setMode] = useState<'signin' | 'signup'>('signin');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === 'signup') await client.auth.register(email, password, displayName || undefined);
      else await client.auth.login(email, password);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Something went wrong; try again');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="auth">
      <h1>HITL agent</h1>
      <p class="muted">Chat with an agent that asks before it acts.</p>
      <div class="tabs" role="tablist" aria-label="Account">
        <button
          role="tab"
          type="button"
          aria-selected={mode === 'signin'}
          onClick={() => setMode('signin')}
        >
          Sign in
        </button>
        <button
          role="tab"
          type="button"
          aria-selected={mode === 'signup'}
          onClick={() => setMode('signup')}
        >
          Sign up
        </button>
      </div>
      <form onSubmit={(e) => void submit(e)} aria-label={mode === 'signup' ? 'Sign up' : 'Sign in'}>
        <label>
          Email
          <input
            type="email"
            name="email"
            autoComplete="email"
            required
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
        </label>
        <label>
          Password
          <input
            type="password"
            name="password"
            autoComplete={mode === 'signup' ? 'new-password' : 'current-password'}
            minLength={8}
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        {mode === 'signup' && (
          <label>
            Display name (optional)
            <input
              type="text"
              name="displayName"
              value={displayName}
              onInput={(e) => setDisplayName(e.currentTarget.value)}
            />
          </label>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {mode === 'signup' ? 'Create account' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
