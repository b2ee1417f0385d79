/**
 * Passwords for the command line, never from its arguments (which `ps` and shell history show):
 * from standard input with `--password-stdin`, or typed at a hidden prompt on a terminal.
 */
import { createInterface } from 'node:readline';
import { UsageError } from './usage.js';

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

/** Asks on the terminal without echoing what is typed. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const output = rl as unknown as { _writeToOutput?: (text: string) => void };
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    // Only the question is echoed, not the keystrokes.
    output._writeToOutput = (text: string) => {
      if (text.includes(question)) process.stderr.write(question);
    };
  });
}

export async function readPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin) return (await readAll(process.stdin)).replace(/\r?\n$/, '');
  if (!process.stdin.isTTY) throw new UsageError('give the password on standard input with --password-stdin');
  return promptHidden('Password: ');
}
