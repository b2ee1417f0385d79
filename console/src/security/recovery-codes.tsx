/**
 * Recovery codes as Gatehouse gives them: once, right after the first second factor or after
 * `Regenerate recovery codes`. The page keeps them only while this panel is open; `Download`
 * makes the text file in the page (a Blob URL, revoked at once), so they go nowhere else.
 */
import { useEffect, useRef, useState } from 'preact/hooks';

/** The file's name: which server and account it is for, so a folder of them stays readable. */
export function recoveryFileName(username: string): string {
  return `gatehouse-recovery-codes-${username.replace(/[^\w.-]+/g, '_')}-${location.hostname}.txt`;
}

/** The downloaded file: the codes one a line, after a line saying what they are. */
export function recoveryFileText(username: string, codes: readonly string[]): string {
  const heading = `Gatehouse recovery codes for ${username} at ${location.host}. Each works once.`;
  return [heading, '', ...codes, ''].join('\n');
}

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  // The click has started the download: the URL is not needed after this task.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

export interface RecoveryCodesProps {
  username: string;
  codes: readonly string[];
  /** `Done`: the codes are saved; they are not shown again. */
  onDone(): void;
}

export function RecoveryCodes({ username, codes, onDone }: RecoveryCodesProps) {
  const [copied, setCopied] = useState<string | undefined>();
  const heading = useRef<HTMLHeadingElement>(null);
  // Shown after a dialog closes or a button is pressed: say so to screen readers by moving there.
  useEffect(() => heading.current?.focus(), []);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(codes.join('\n'));
      setCopied('Copied.');
    } catch {
      setCopied('The browser did not allow copying: download them or write them down.');
    }
  };
  return (
    <section class="recovery-codes" aria-labelledby="recovery-codes">
      <h3 id="recovery-codes" ref={heading} tabIndex={-1}>
        Recovery codes
      </h3>
      <p>
        Each code signs you in once in place of an authenticator code, if you lose your device. Keep them somewhere
        safe: they are shown only now.
      </p>
      <ol class="codes">
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ol>
      <div class="actions">
        <button type="button" onClick={() => download(recoveryFileName(username), recoveryFileText(username, codes))}>
          Download
        </button>
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
        <button type="button" onClick={onDone}>
          Done
        </button>
      </div>
      {copied && <p role="status">{copied}</p>}
    </section>
  );
}
