/**
 * Driving the console in the end-to-end tests (test/console*.test.ts) as a person would, by the
 * accessible names DESIGN.md fixes. One Chromium per suite; one context (cookie jar) per person.
 */
import type { Page } from 'playwright-core';
import { startBrowser, type RecordedContext, type TestBrowser } from './browser.js';
import type { TestServer } from './server.js';
import { passwordOf } from './sessions.js';

/** A bound on a whole console test: a hung page fails it instead of the run. */
export const BOUNDED = { timeout: 60_000 };

/** The suite's Chromium and every context it opened, closed together. */
export class ConsoleBrowser {
  private readonly contexts: RecordedContext[] = [];

  private constructor(readonly browser: TestBrowser) {}

  static async start(): Promise<ConsoleBrowser> {
    return new ConsoleBrowser(await startBrowser());
  }

  /** A page in a context of its own (own cookies), recording its requests and problems. */
  async newPage(viewport?: { width: number; height: number }): Promise<{ page: Page; recorded: RecordedContext }> {
    const recorded = await this.browser.context(viewport ? { viewport } : {});
    this.contexts.push(recorded);
    return { page: await recorded.page(), recorded };
  }

  /** A page in a context of its own, signed in as `username` through the form. */
  async signedInPage(target: TestServer, username: string, password?: string): Promise<Page> {
    const { page } = await this.newPage();
    await signedInAs(page, target, username, password);
    return page;
  }

  /** Every URL any page of the suite requested. */
  get requests(): string[] {
    return this.contexts.flatMap((context) => context.requests);
  }

  /** Every console error, CSP violation and page error of any page of the suite. */
  get problems(): string[] {
    return this.contexts.flatMap((context) => context.problems);
  }

  async close(): Promise<void> {
    await Promise.all(this.contexts.map((context) => context.close().catch(() => {})));
    await this.browser.close();
  }
}

/** Opens the console and signs in through the form. */
export async function signInAt(
  page: Page,
  target: Pick<TestServer, 'url'>,
  username: string,
  password = passwordOf(username),
) {
  await page.goto(`${target.url}/console`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

export async function signedInAs(page: Page, target: TestServer, username: string, password?: string) {
  await signInAt(page, target, username, password);
  await page.getByRole('heading', { name: 'Your sessions' }).waitFor();
}

export const alertText = (page: Page) => page.getByRole('alert').first().textContent({ timeout: 5_000 });
