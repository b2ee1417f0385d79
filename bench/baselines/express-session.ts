/**
 * Baseline: the usual server-side session of an Express app, express-session with
 * connect-sqlite3 on a SQLite file: `POST /login` starts a session (the cookie `sid`), `GET /me`
 * answers the signed-in user as JSON or 401. What Gatehouse's `GET /auth/verify` and cookie
 * `{ me }` are measured against.
 */
import { createServer } from 'node:http';
import express from 'express';
import session from 'express-session';
import connectSqlite3 from 'connect-sqlite3';
import { answerBenchQuestions, stopWith } from '../ipc.js';

declare module 'express-session' {
  interface SessionData {
    user: { id: string; username: string };
  }
}

const SQLiteStore = connectSqlite3(session);
const dir = process.env.BENCH_DIR ?? '/tmp';
const app = express();
app.use(
  session({
    store: new SQLiteStore({ db: 'express-sessions.db', dir }) as session.Store,
    secret: 'bench-secret-not-for-production',
    name: 'sid',
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax' },
  }),
);
app.post('/login', (req, res) => {
  req.session.user = { id: '00000000-0000-4000-8000-000000000000', username: 'bench' };
  res.json({ ok: true });
});
app.get('/me', (req, res) => {
  if (!req.session.user) return void res.status(401).json({ me: null });
  res.json({ me: req.session.user });
});
const server = createServer(app);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as { port: number };
process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${port}` }) + '\n');
stopWith(() => new Promise((resolve) => server.close(() => resolve())));
answerBenchQuestions(server);
