import { useEffect, useState } from 'preact/hooks';
import { AuthScreen } from './AuthScreen';
import { ChatApp } from './ChatApp';
import { client } from './client';

export function App() {
  const [user, setUser] = useState(client.auth.current?.user ?? null);
  useEffect(() => client.auth.onChange((a) => setUser(a?.user ?? null)), []);
  useEffect(() => {
    // Another tab signed out (or in): follow it.
    const onStorage = () => setUser(client.auth.current?.user ?? null);
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, []);
  return user ? (
    <ChatApp key={user.id} userLabel={user.displayName ?? user.email} />
  ) : (
    <AuthScreen />
  );
}
