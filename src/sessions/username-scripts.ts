/**
 * Whether a username mixes writing systems, as UTS #39 section 5.2 ("Highly Restrictive")
 * judges it: `pаypal` with a Cyrillic а does, `παύλος`, `дана`, `dana`, `山田` and `yamada山田`
 * do not. Digits, `.`, `_`, `-` and `@` belong to every script (Common), combining marks to
 * their base's (Inherited). A character used by several scripts (Script_Extensions) counts for
 * each; Han counts as Japanese, Chinese and Korean, kana as Japanese, Hangul as Korean.
 *
 * Confusable skeletons keep a lookalike of an existing name out; this keeps out the names that
 * only a mix of scripts makes look like another (`pаypal` before anyone named `paypal`).
 */
export function mixesScripts(username: string): boolean {
  const sets: Array<ReadonlySet<string>> = [];
  for (const character of username) {
    const scripts = scriptsOf(character);
    if (scripts) sets.push(scripts);
  }
  if (sets.length === 0 || intersection(sets).size > 0) return false;
  return !ALLOWED_WITH_LATIN.some((allowed) => sets.every((scripts) => allowed.some((script) => scripts.has(script))));
}

/**
 * ISO 15924 codes of every script with letters, digits or marks in Unicode 17 (Node 20's
 * tables; Common and Inherited apart). A test checks that they cover every such character.
 */
const SCRIPTS = [
  ...['Adlm', 'Aghb', 'Ahom', 'Arab', 'Armi', 'Armn', 'Avst', 'Bali', 'Bamu', 'Bass', 'Batk', 'Beng', 'Berf'],
  ...['Bhks', 'Bopo', 'Brah', 'Brai', 'Bugi', 'Buhd', 'Cakm', 'Cans', 'Cari', 'Cham', 'Cher', 'Chrs', 'Copt'],
  ...['Cpmn', 'Cprt', 'Cyrl', 'Deva', 'Diak', 'Dogr', 'Dsrt', 'Dupl', 'Egyp', 'Elba', 'Elym', 'Ethi', 'Gara'],
  ...['Geor', 'Glag', 'Gong', 'Gonm', 'Goth', 'Gran', 'Grek', 'Gujr', 'Gukh', 'Guru', 'Hang', 'Hani', 'Hano'],
  ...['Hatr', 'Hebr', 'Hira', 'Hluw', 'Hmng', 'Hmnp', 'Hung', 'Ital', 'Java', 'Kali', 'Kana', 'Kawi', 'Khar'],
  ...['Khmr', 'Khoj', 'Kits', 'Knda', 'Krai', 'Kthi', 'Lana', 'Laoo', 'Latn', 'Lepc', 'Limb', 'Lina', 'Linb'],
  ...['Lisu', 'Lyci', 'Lydi', 'Mahj', 'Maka', 'Mand', 'Mani', 'Marc', 'Medf', 'Mend', 'Merc', 'Mero', 'Mlym'],
  ...['Modi', 'Mong', 'Mroo', 'Mtei', 'Mult', 'Mymr', 'Nagm', 'Nand', 'Narb', 'Nbat', 'Newa', 'Nkoo', 'Nshu'],
  ...['Ogam', 'Olck', 'Onao', 'Orkh', 'Orya', 'Osge', 'Osma', 'Ougr', 'Palm', 'Pauc', 'Perm', 'Phag', 'Phli'],
  ...['Phlp', 'Phnx', 'Plrd', 'Prti', 'Rjng', 'Rohg', 'Runr', 'Samr', 'Sarb', 'Saur', 'Sgnw', 'Shaw', 'Shrd'],
  ...['Sidd', 'Sidt', 'Sind', 'Sinh', 'Sogd', 'Sogo', 'Sora', 'Soyo', 'Sund', 'Sunu', 'Sylo', 'Syrc', 'Tagb'],
  ...['Takr', 'Tale', 'Talu', 'Taml', 'Tang', 'Tavt', 'Tayo', 'Telu', 'Tfng', 'Tglg', 'Thaa', 'Thai', 'Tibt'],
  ...['Tirh', 'Todr', 'Tols', 'Tnsa', 'Toto', 'Tutg', 'Ugar', 'Vaii', 'Vith', 'Wara', 'Wcho', 'Xpeo', 'Xsux'],
  ...['Yezi', 'Yiii', 'Zanb'],
];

/** Common and Inherited: characters that belong to every script. */
const ANY_SCRIPT = /[\p{scx=Zyyy}\p{scx=Zinh}]/u;

/** UTS #39's augmentation: Han, kana and Hangul also stand for the writing systems built on them. */
const AUGMENTED: Record<string, string[]> = {
  Hani: ['Hanb', 'Jpan', 'Kore'],
  Hira: ['Jpan'],
  Kana: ['Jpan'],
  Hang: ['Kore'],
  Bopo: ['Hanb'],
};

/** "Highly Restrictive" also lets Latin join Japanese, Chinese (Han and Bopomofo) or Korean. */
const ALLOWED_WITH_LATIN = [
  ['Latn', 'Jpan'],
  ['Latn', 'Hanb'],
  ['Latn', 'Kore'],
];

let scriptPatterns: Array<[script: string, pattern: RegExp]> | undefined;

/** The character's scripts, augmented; undefined for Common and Inherited. */
export function scriptsOf(character: string): ReadonlySet<string> | undefined {
  if (ANY_SCRIPT.test(character)) return undefined;
  scriptPatterns ??= SCRIPTS.map((script) => [script, new RegExp(`\\p{scx=${script}}`, 'u')]);
  const scripts = new Set<string>();
  for (const [script, pattern] of scriptPatterns) {
    if (!pattern.test(character)) continue;
    scripts.add(script);
    for (const writingSystem of AUGMENTED[script] ?? []) scripts.add(writingSystem);
  }
  return scripts;
}

function intersection(sets: Array<ReadonlySet<string>>): Set<string> {
  const [first, ...rest] = sets;
  return new Set([...(first ?? [])].filter((script) => rest.every((set) => set.has(script))));
}
