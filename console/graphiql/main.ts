/**
 * GraphiQL, bundled here and served by Gatehouse itself: it works offline and under the same
 * `default-src 'self'` policy as the console. It is for admins already signed in at the
 * console (the cookie rides along); nobody types a password into it. What is typed into it
 * stays in memory: passwords in `createUser` documents must not land in localStorage.
 */
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import './page.css';
import { GraphiQL, type GraphiQLProps } from 'graphiql';
import { createClient } from 'graphql-ws';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { EXAMPLE_TABS } from './examples.js';

type Fetcher = GraphiQLProps['fetcher'];

const socket = createClient({ url: `${location.origin.replace(/^http/, 'ws')}/graphql` });

/** Queries and mutations over HTTP, subscriptions over graphql-ws; both carry the cookie. */
const fetcher: Fetcher = (params) => {
  // graphql-ws yields formatted results (errors as plain objects): what GraphiQL displays anyway.
  if (/^\s*subscription\b/m.test(params.query)) return socket.iterate(params) as ReturnType<Fetcher>;
  return fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(params),
  }).then((response) => response.json());
};

/** A Storage that forgets everything when the tab closes. */
class MemoryStorage implements Storage {
  private readonly items = new Map<string, string>();
  get length() {
    return this.items.size;
  }
  clear() {
    this.items.clear();
  }
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  key(index: number) {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
}

const root = document.getElementById('graphiql');
if (root) {
  root.textContent = '';
  createRoot(root).render(
    createElement(GraphiQL, { fetcher, defaultTabs: EXAMPLE_TABS, storage: new MemoryStorage() }),
  );
}
