/**
 * A modal dialog on the browser's own `<dialog>`: it moves the focus inside (to the element
 * marked `autofocus`, else the first field or button), keeps it there, makes the page behind
 * inert for screen readers, and closes on Escape. Rendered only while open, so its fields never
 * share their labels with the page's.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';

/**
 * The last element focused outside any dialog, where the focus goes back when one closes. Kept
 * from focus events rather than read at opening: the button that started an action is disabled
 * (and so unfocused) by the time a password prompt opens for it.
 */
let lastFocusedOutside: HTMLElement | null = null;
document.addEventListener('focusin', (event) => {
  if (event.target instanceof HTMLElement && !event.target.closest('dialog')) lastFocusedOutside = event.target;
});

/** A button stays disabled while its action runs (after a password prompt, too): wait for it. */
function returnFocus(element: HTMLElement | null) {
  if (!element?.isConnected) return;
  if (!element.matches(':disabled')) return element.focus();
  const watcher = new MutationObserver(() => {
    if (element.matches(':disabled')) return;
    watcher.disconnect();
    if (document.activeElement === document.body) element.focus();
  });
  watcher.observe(element, { attributes: true, attributeFilter: ['disabled'] });
  setTimeout(() => watcher.disconnect(), 30_000);
}

export interface DialogProps {
  title: string;
  /** Escape, or a button inside that cancels. */
  onCancel(): void;
  children: ComponentChildren;
}

export function Dialog({ title, onCancel, children }: DialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const opener = useRef(lastFocusedOutside);
  useEffect(() => {
    dialog.current?.showModal();
    return () => returnFocus(opener.current);
  }, []);
  return (
    <dialog
      ref={dialog}
      aria-labelledby={titleId}
      onCancel={(event) => {
        // The platform would close it; the owner decides, by no longer rendering it.
        event.preventDefault();
        onCancel();
      }}
    >
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  );
}

export interface ConfirmProps {
  title: string;
  /** What will happen, in a sentence. */
  consequence: string;
  /** The confirming button's words, e.g. "Yes, end every session". */
  confirm: string;
  onConfirm(): void;
  onCancel(): void;
}

/** A question before something that cannot be undone; Cancel holds the focus, so Enter is safe. */
export function Confirm({ title, consequence, confirm, onConfirm, onCancel }: ConfirmProps) {
  return (
    <Dialog title={title} onCancel={onCancel}>
      <p>{consequence}</p>
      <div class="actions">
        <button type="button" autofocus onClick={onCancel}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={onConfirm}>
          {confirm}
        </button>
      </div>
    </Dialog>
  );
}
