// File: logic/logBuffer.ts
//
// The bookkeeping behind the log viewer, which must stay fast on logs of
// any size: text arrives in chunks, is cleaned (ANSI colour codes removed,
// progress bars redrawn with '\r' reduced to their last state), and is kept
// as blocks, one per screen update. When more than `maxLines` lines are
// held, whole blocks are dropped from the front, so the page holds a bounded
// number of DOM nodes and appending stays O(chunk).

// CSI sequences (colours, cursor moves) and OSC sequences (titles, links).
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

/**
 * Removes terminal escapes and, within each line, keeps only what follows
 * the last carriage return (what a terminal would finally show). A "\r\n"
 * line ending is an ordinary newline.
 */
export function cleanLogText(text: string): string {
  let out = text.replace(ANSI, "");
  if (out.includes("\r")) {
    out = out
      .replace(/\r+\n/g, "\n")
      .split("\n")
      .map((line) => {
        const cr = line.lastIndexOf("\r");
        return cr < 0 || cr === line.length - 1 ? line.replace(/\r+$/, "") : line.slice(cr + 1);
      })
      .join("\n");
  }
  return out;
}

export interface LogBlock {
  text: string;
  lines: number;
}

export class LogBuffer {
  readonly blocks: LogBlock[] = [];
  /** Lines held now (a trailing partial line counts as one). */
  lines = 0;
  droppedLines = 0;
  bytes = 0;

  constructor(readonly maxLines = 5000) {}

  /**
   * Adds a block of already-cleaned text. Returns how many blocks were
   * dropped from the front (the caller removes as many DOM nodes).
   */
  append(text: string): number {
    if (!text) return 0;
    let lines = countNewlines(text) + (text.endsWith("\n") ? 0 : 1);
    if (lines > this.maxLines) {
      // One huge chunk (e.g. the tail of a big log): keep only its last lines.
      let cut = text.length - (text.endsWith("\n") ? 1 : 0);
      for (let i = 0; i < this.maxLines; i++) cut = text.lastIndexOf("\n", cut - 1);
      this.droppedLines += lines - this.maxLines;
      text = text.slice(cut + 1);
      lines = this.maxLines;
    }
    this.blocks.push({ text, lines });
    this.lines += lines;
    this.bytes += text.length;
    let dropped = 0;
    while (this.lines > this.maxLines && this.blocks.length > 1) {
      const first = this.blocks.shift()!;
      this.lines -= first.lines;
      this.bytes -= first.text.length;
      this.droppedLines += first.lines;
      dropped++;
    }
    return dropped;
  }

  text(): string {
    return this.blocks.map((b) => b.text).join("");
  }

  clear(): void {
    this.blocks.length = 0;
    this.lines = 0;
    this.droppedLines = 0;
    this.bytes = 0;
  }
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  return n;
}
