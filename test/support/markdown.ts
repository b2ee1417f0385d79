/**
 * Just enough Markdown for the docs test: a document's links and the anchors its headings get,
 * as GitHub renders them. Fenced code blocks are neither prose nor links, so they are left out.
 */

/** The text outside fenced code blocks (``` or ~~~), line for line. */
export function proseOf(markdown: string): string {
  let fence: string | undefined;
  return markdown
    .split('\n')
    .map((line) => {
      const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
      if (marker && (fence === undefined || marker.startsWith(fence))) {
        fence = fence === undefined ? marker : undefined;
        return '';
      }
      return fence === undefined ? line : '';
    })
    .join('\n');
}

const INLINE_LINK = /!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*<?([^()\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
const REFERENCE_DEFINITION = /^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm;

/** Every link and image target: inline `[text](target)` and reference definitions `[name]: target`. */
export function linkTargets(markdown: string): string[] {
  const prose = proseOf(markdown);
  return [...prose.matchAll(INLINE_LINK), ...prose.matchAll(REFERENCE_DEFINITION)].map((match) => match[1]!);
}

/** Paths written as inline code in the prose that climb out of the document's folder: `../shared/`. */
export function parentPathMentions(markdown: string): string[] {
  return [...proseOf(markdown).matchAll(/`(\.\.\/[^`\s]*)`/g)].map((match) => match[1]!);
}

/** GitHub's anchor for a heading: its text, lower case, without punctuation, spaces as hyphens. */
export function headingSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link reads as its text
    .replace(/[`*]/g, '');
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a document offers: one per heading (repeats get -1, -2 …), and explicit `<a id>`/`<a name>`. */
export function anchorsOf(markdown: string): Set<string> {
  const prose = proseOf(markdown);
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading] of prose.matchAll(/^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/gm)) {
    const slug = headingSlug(heading!);
    const repeats = seen.get(slug) ?? 0;
    seen.set(slug, repeats + 1);
    anchors.add(repeats === 0 ? slug : `${slug}-${repeats}`);
  }
  for (const [, id] of prose.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(id!);
  return anchors;
}
