import type { Ref } from 'preact';

export interface CodeFieldProps {
  /** For a screen that moves the focus to the field when it appears. */
  inputRef?: Ref<HTMLInputElement>;
}

/**
 * The `Authentication code` field: six digits from an authenticator app, or a recovery code, in
 * one field. Spaces are fine (Gatehouse drops them) and the two kinds differ in length and
 * alphabet, so the field checks only that something was typed.
 */
export function CodeField({ inputRef }: CodeFieldProps) {
  return (
    <label>
      Authentication code
      <input ref={inputRef} name="code" autocomplete="one-time-code" autocapitalize="off" spellcheck={false} required />
    </label>
  );
}
