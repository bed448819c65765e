import type { Http, HttpResult } from './http.js';

/** A user's session as the REST specs hold it. */
export interface RestSession {
  token: string;
  sessionId: string;
}

/**
 * The REST calls on one session that the lifecycle specs make again and again. `app` is read at
 * call time, so this can be made at describe time from a `useTestApp` block.
 */
export function sessionCalls(app: { readonly http: Http }): {
  send(s: RestSession, content: string): Promise<HttpResult>;
  close(s: RestSession): Promise<HttpResult>;
  answer(s: RestSession, interactionId: string, response: unknown): Promise<HttpResult>;
} {
  return {
    send: (s, content) => app.http.post(`/sessions/${s.sessionId}/messages`, { content }, s.token),
    close: (s) => app.http.request('DELETE', `/sessions/${s.sessionId}`, { token: s.token }),
    answer: (s, interactionId, response) =>
      app.http.post(
        `/sessions/${s.sessionId}/interactions/${interactionId}`,
        { response },
        s.token,
      ),
  };
}
