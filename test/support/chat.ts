import { Http } from './http.js';
import { ask, type ClientSocket, connect, EventLog } from './socket.js';

/** A signed-in user with a socket joined to one session: the shape most agent tests need. */
export class ChatTab {
  private counter = 0;

  private constructor(
    readonly socket: ClientSocket,
    readonly log: EventLog,
    readonly sessionId: string,
    readonly token: string,
  ) {}

  static async open(baseUrl: string, token: string, sessionId?: string): Promise<ChatTab> {
    const socket = await connect(baseUrl, token);
    const log = new EventLog(socket);
    const id = sessionId ?? (await ask(socket, 'session:create', {})).session.id;
    const joined = await ask(socket, 'session:join', { sessionId: id });
    if (!joined.ok) throw new Error(`join failed: ${JSON.stringify(joined)}`);
    return new ChatTab(socket, log, id, token);
  }

  static async user(http: Http, prefix = 'agent'): Promise<{ token: string; userId: string }> {
    const u = await http.register(prefix);
    return { token: u.accessToken, userId: u.user.id };
  }

  send(content: string, clientMessageId = `c${Date.now()}-${this.counter++}`): Promise<any> {
    return ask(this.socket, 'message:send', {
      sessionId: this.sessionId,
      content,
      clientMessageId,
    });
  }

  respond(interactionId: string, response: unknown): Promise<any> {
    return ask(this.socket, 'interaction:respond', {
      sessionId: this.sessionId,
      interactionId,
      response,
    });
  }

  events(): any[] {
    return this.log.of(this.sessionId);
  }

  types(fromSeq = 0): string[] {
    return this.events()
      .filter((e) => e.seq > fromSeq)
      .map((e) => e.type);
  }

  /** The first event of `type` after `fromSeq` (waits for it). */
  async next(type: string, fromSeq = 0, timeoutMs = 10_000): Promise<any> {
    const find = (): any => this.events().find((e) => e.seq > fromSeq && e.type === type);
    await this.log.until(() => find() !== undefined, timeoutMs);
    return find();
  }

  /** The run's closing event after `fromSeq`. */
  async end(fromSeq = 0, timeoutMs = 10_000): Promise<any> {
    await this.log.untilRunEnds(this.sessionId, fromSeq, timeoutMs);
    return this.events().find(
      (e) =>
        e.seq > fromSeq && ['task_completed', 'task_cancelled', 'task_failed'].includes(e.type),
    );
  }

  close(): void {
    this.socket.close();
  }
}
