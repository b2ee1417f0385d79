/**
 * Baseline: a bare graphql-yoga (its defaults, no plugins of ours, no authentication) answering
 * the same shape Gatehouse answers for a signed-in `{ me { id username } }`. What Gatehouse's
 * authenticated request is measured against: Yoga's own floor for that document.
 *
 * BENCH_YOGA_BODY_LIMIT=off turns off Yoga's one default that costs much: its request-body limit,
 * which pipes every POST body through a TransformStream (a stream pipeline per request). Gatehouse
 * bounds bodies itself, from Content-Length, so this is the floor of what Gatehouse does.
 */
import { createServer } from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';
import { answerBenchQuestions, stopWith } from '../ipc.js';

const me = {
  id: process.env.BENCH_USER_ID ?? '00000000-0000-4000-8000-000000000000',
  username: process.env.BENCH_USERNAME ?? 'bench',
};
const yoga = createYoga({
  schema: createSchema({
    typeDefs: 'type User { id: ID! username: String! } type Query { me: User }',
    resolvers: { Query: { me: () => me } },
  }),
  graphiql: false,
  landingPage: false,
  logging: false,
  ...(process.env.BENCH_YOGA_BODY_LIMIT === 'off' ? { maxRequestBodySize: false as const } : {}),
});
const server = createServer(yoga);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as { port: number };
process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${port}` }) + '\n');
stopWith(() => new Promise((resolve) => server.close(() => resolve())));
answerBenchQuestions(server);
