/** True when dist/ holds a build of the sources as they are now (see build-stamp.js). */
export function buildIsCurrent(): boolean;
