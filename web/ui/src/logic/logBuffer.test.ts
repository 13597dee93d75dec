import { describe, expect, it } from "vitest";
import { cleanLogText, LogBuffer } from "./logBuffer";

describe("cleanLogText", () => {
  it("removes ANSI colour and cursor codes", () => {
    expect(cleanLogText("\x1b[32mok\x1b[0m done\x1b[2K\n")).toBe("ok done\n");
    expect(cleanLogText("\x1b]0;title\x07x")).toBe("x");
  });
  it("keeps the last state of a progress bar redrawn with \\r", () => {
    expect(cleanLogText("10%\r50%\r100%\nnext\n")).toBe("100%\nnext\n");
  });
  it("treats \\r\\n as a newline", () => {
    expect(cleanLogText("a\r\nb\r\n")).toBe("a\nb\n");
  });
  it("leaves a trailing \\r (more to come) without hiding the line", () => {
    expect(cleanLogText("step 1\r")).toBe("step 1");
  });
});

describe("LogBuffer", () => {
  it("keeps everything under the cap", () => {
    const b = new LogBuffer(10);
    expect(b.append("a\nb\n")).toBe(0);
    expect(b.append("c")).toBe(0);
    expect(b.lines).toBe(3);
    expect(b.text()).toBe("a\nb\nc");
  });
  it("drops whole blocks from the front past the cap", () => {
    const b = new LogBuffer(4);
    b.append("1\n2\n");
    b.append("3\n4\n");
    expect(b.append("5\n6\n")).toBe(1);
    expect(b.text()).toBe("3\n4\n5\n6\n");
    expect(b.droppedLines).toBe(2);
    expect(b.lines).toBe(4);
  });
  it("cuts a single block bigger than the cap to its last lines", () => {
    const b = new LogBuffer(2);
    b.append("x\n");
    expect(b.append("a\nb\nc\n")).toBe(1);
    expect(b.text()).toBe("b\nc\n");
    expect(b.droppedLines).toBe(2);
    const c = new LogBuffer(2);
    c.append("a\nb\nc");
    expect(c.text()).toBe("b\nc");
  });
  it("stays bounded over a long run", () => {
    const b = new LogBuffer(1000);
    for (let i = 0; i < 10_000; i++) b.append(`line ${i}\nline ${i}b\n`);
    expect(b.lines).toBeLessThanOrEqual(1000);
    expect(b.blocks.length).toBeLessThanOrEqual(500);
    expect(b.text().endsWith("line 9999b\n")).toBe(true);
    expect(b.droppedLines + b.lines).toBe(20_000);
  });
  it("ignores empty text", () => {
    const b = new LogBuffer(2);
    expect(b.append("")).toBe(0);
    expect(b.blocks).toHaveLength(0);
  });
});
