/** A user agent in words ("Chrome on Linux"), as the sessions tables show it. */
import Bowser from 'bowser';

const cache = new Map<string, string>();

export function describeDevice(userAgent: string | null | undefined): string {
  if (!userAgent) return 'Unknown device';
  let words = cache.get(userAgent);
  if (words === undefined) {
    const parsed = Bowser.parse(userAgent);
    const browser = parsed.browser.name;
    const os = parsed.os.name;
    // Scripts and tools (curl, Node) are no browser: show their name as they gave it.
    words = browser && os ? `${browser} on ${os}` : browser || os || userAgent.split(/[ /]/, 1)[0] || 'Unknown device';
    cache.set(userAgent, words);
  }
  return words;
}
