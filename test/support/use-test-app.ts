import type { Abstract, Type } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AppConfig } from '../../src/config/app-config.js';
import { ChatTab } from './chat.js';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './databases.js';
import { Http } from './http.js';
import { type ClientSocket, connect } from './socket.js';
import { startTestApp, type TestApp } from './test-app.js';

/** Environment for the app: a value, or a function read when the app starts (after earlier hooks). */
export type TestEnv = Record<string, string> | (() => Record<string, string>);

/** One running app of a `useTestApp` block, read inside tests and hooks (not at describe time). */
export interface AppUnderTest {
  readonly app: NestExpressApplication;
  readonly config: AppConfig;
  readonly baseUrl: string;
  readonly port: number;
  /** A JSON client on this app. */
  readonly http: Http;
  /** The database the block made (shared by every node of the block). */
  readonly database: TestDatabase;
  /** A provider of the running app, as `app.get` finds it. */
  get<T>(token: Type<T> | Abstract<T>): T;
  /** Registers a fresh user: its access token and id. */
  user(prefix?: string): Promise<{ token: string; userId: string }>;
  /** Logs in (the admin of ADMIN_EMAIL, say) and returns the access token. */
  login(email: string, password: string): Promise<string>;
  /** A fresh user with a fresh session, both over REST. */
  session(prefix?: string): Promise<{ token: string; sessionId: string }>;
  /** A socket joined to a session (a new one unless given); closed after the test. */
  tab(token: string, sessionId?: string): Promise<ChatTab>;
  /** Closes these (sockets, tabs, streams a test opened itself) after the test. */
  closeAfter(...clients: { close(): void }[]): void;
  /** A connected /chat socket; closed after the test. */
  socket(token: string | undefined, opts?: Parameters<typeof connect>[2]): Promise<ClientSocket>;
  /**
   * Another node on the same database (its own DATA_DIR, `-<name>`), started after this one in
   * a beforeAll and closed before it. Call it at describe time, beside `useTestApp`.
   */
  node(env?: TestEnv, name?: string): AppUnderTest;
  /** Closes the app now (a test of shutdown, say); the block's teardown then skips it. */
  close(): Promise<void>;
  /**
   * Closes the app gracefully and starts a new one on the same database and DATA_DIR (a node
   * restarted by its supervisor); it listens on a new port, so read `baseUrl` again after it.
   * `whileDown` runs between the two (what a test looks at while no app of this node is up).
   */
  restart(whileDown?: () => Promise<unknown>): Promise<void>;
  /** Whether the app runs now (false between the close and the start of a restart). */
  readonly running: boolean;
}

const resolveEnv = (env: TestEnv): Record<string, string> =>
  typeof env === 'function' ? env() : env;

/**
 * The real application on a free loopback port, on a fresh database of `kind`, for the enclosing
 * describe block (usually a `describeEachDatabase`). Registers its own hooks: the database and
 * the app start in a beforeAll; sockets and tabs opened through it close after each test; the
 * app, its extra nodes and the database go in an afterAll. Hooks run in the order they are
 * declared, so a spec's own beforeAll after this call sees the app running. A test that needs an
 * app of its own (another configuration) starts one with `startTestApp(t.database, env)`.
 */
export function useTestApp(kind: DatabaseKind, env: TestEnv = {}): AppUnderTest {
  let database: TestDatabase | undefined;
  const nodes: Node[] = [];
  const main = new Node({ database: () => database, env, add: (n) => nodes.push(n) });
  nodes.push(main);

  const start = async (): Promise<void> => {
    database = await createTestDatabase(kind);
    await main.start();
  };
  const teardown = async (): Promise<void> => {
    for (const n of [...nodes].reverse()) await n.close();
    await database?.drop();
    database = undefined;
  };
  beforeAll(start);
  afterEach(() => {
    for (const n of nodes) n.closeClients();
  });
  afterAll(teardown);
  return main;
}

interface Block {
  database(): TestDatabase | undefined;
  env: TestEnv;
  add(n: Node): void;
}

class Node implements AppUnderTest {
  private instance: (TestApp & { http: Http }) | undefined;
  private readonly clients: { close(): void }[] = [];

  constructor(
    private readonly block: Block,
    private readonly dataDirSuffix?: string,
  ) {}

  async start(): Promise<void> {
    const database = this.database;
    const env = resolveEnv(this.block.env);
    const own: Record<string, string> = this.dataDirSuffix
      ? { DATA_DIR: `${database.dataDir}-${this.dataDirSuffix}` }
      : {};
    const t = await startTestApp(database, { ...env, ...own });
    this.instance = { ...t, http: new Http(t.baseUrl) };
  }

  async close(): Promise<void> {
    const t = this.instance;
    this.instance = undefined;
    await t?.close();
  }

  async restart(whileDown?: () => Promise<unknown>): Promise<void> {
    await this.close();
    await whileDown?.();
    await this.start();
  }

  get running(): boolean {
    return this.instance !== undefined;
  }

  closeClients(): void {
    for (const c of this.clients.splice(0)) c.close();
  }

  private get current(): TestApp & { http: Http } {
    if (!this.instance)
      throw new Error('the test app is not running (read it inside a test or hook)');
    return this.instance;
  }

  get app(): NestExpressApplication {
    return this.current.app;
  }
  get config(): AppConfig {
    return this.current.config;
  }
  get baseUrl(): string {
    return this.current.baseUrl;
  }
  get port(): number {
    return this.current.port;
  }
  get http(): Http {
    return this.current.http;
  }
  get database(): TestDatabase {
    const d = this.block.database();
    if (!d) throw new Error('the test database is not there (read it inside a test or hook)');
    return d;
  }

  get<T>(token: Type<T> | Abstract<T>): T {
    return this.app.get<T>(token);
  }

  async user(prefix?: string): Promise<{ token: string; userId: string }> {
    return ChatTab.user(this.http, prefix);
  }

  async login(email: string, password: string): Promise<string> {
    return (await this.http.post('/auth/login', { email, password })).body.accessToken as string;
  }

  async session(prefix?: string): Promise<{ token: string; sessionId: string }> {
    const token = (await this.http.register(prefix)).accessToken;
    const sessionId = (await this.http.post('/sessions', {}, token)).body.id as string;
    return { token, sessionId };
  }

  async tab(token: string, sessionId?: string): Promise<ChatTab> {
    const c = await ChatTab.open(this.baseUrl, token, sessionId);
    this.clients.push(c);
    return c;
  }

  closeAfter(...clients: { close(): void }[]): void {
    this.clients.push(...clients);
  }

  async socket(
    token: string | undefined,
    opts?: Parameters<typeof connect>[2],
  ): Promise<ClientSocket> {
    const s = await connect(this.baseUrl, token, opts);
    this.clients.push(s);
    return s;
  }

  node(env: TestEnv = this.block.env, name = 'b'): AppUnderTest {
    const n = new Node({ ...this.block, env }, name);
    this.block.add(n);
    beforeAll(() => n.start());
    return n;
  }
}
