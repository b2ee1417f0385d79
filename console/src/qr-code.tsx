/**
 * A QR code drawn in the page as inline SVG, from `uqr`'s matrix. The text it carries (an
 * `otpauth://` URI holds the TOTP secret) never leaves the page: no image service, no `data:`
 * URL (the policy is `default-src 'self'`), no `innerHTML`.
 */
import { encode } from 'uqr';

/** The quiet zone around the code, in modules: the four the QR specification asks for. */
const QUIET_ZONE = 4;

/** One path of unit squares, one per dark module: a few kilobytes even for a long URI. */
function darkModules(data: boolean[][]): string {
  const squares: string[] = [];
  data.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) squares.push(`M${x} ${y}h1v1h-1z`);
    }),
  );
  return squares.join('');
}

export interface QrCodeProps {
  /** What the code carries. */
  text: string;
  /** What the picture is, for screen readers (it says nothing else to them). */
  label: string;
}

export function QrCode({ text, label }: QrCodeProps) {
  // Medium correction: a phone reads it from a screen with glare; the URI stays short enough.
  const { size, data } = encode(text, { ecc: 'M', border: QUIET_ZONE });
  return (
    <svg class="qr-code" role="img" aria-label={label} viewBox={`0 0 ${size} ${size}`} shape-rendering="crispEdges">
      {/* Dark on light whatever the colour scheme: scanners expect it. */}
      <rect width={size} height={size} fill="#fff" />
      <path d={darkModules(data)} fill="#000" />
    </svg>
  );
}
