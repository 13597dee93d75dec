import { describe, expect, it } from "vitest";
import { SseParser } from "./sse";

describe("SseParser", () => {
  it("parses messages, drops comments", () => {
    const p = new SseParser();
    expect(p.feed(': connected\n\ndata: {"a":1}\n\n: ping\n\n')).toEqual([{ event: "message", data: '{"a":1}' }]);
  });
  it("handles chunks cut anywhere, including inside \\r\\n", () => {
    const text = 'data: one\r\n\r\nevent: error\r\ndata: {"code":"NOT_FOUND"}\r\n\r\n';
    for (let cut = 1; cut < text.length; cut++) {
      const p = new SseParser();
      const got = [...p.feed(text.slice(0, cut)), ...p.feed(text.slice(cut))];
      expect(got).toEqual([
        { event: "message", data: "one" },
        { event: "error", data: '{"code":"NOT_FOUND"}' },
      ]);
    }
  });
  it("handles text fed a character at a time", () => {
    const text = 'data: {"long":"' + "x".repeat(300) + '"}\r\n\r\ndata: b\r\rdata: c\n\n';
    const p = new SseParser();
    const got = [...text].flatMap((c) => p.feed(c));
    expect(got).toEqual([
      { event: "message", data: `{"long":"${"x".repeat(300)}"}` },
      { event: "message", data: "b" },
      { event: "message", data: "c" },
    ]);
  });
  it("joins multi-line data and resets the event name", () => {
    const p = new SseParser();
    expect(p.feed("event: x\ndata: a\ndata: b\n\ndata:c\n\n")).toEqual([
      { event: "x", data: "a\nb" },
      { event: "message", data: "c" },
    ]);
  });
  it("waits for the blank line", () => {
    const p = new SseParser();
    expect(p.feed("data: a\n")).toEqual([]);
    expect(p.feed("\n")).toEqual([{ event: "message", data: "a" }]);
  });
});

describe("log streams", () => {
  it("are text: an event's data lines are the log's lines", () => {
    const p = new SseParser();
    const got = p.feed("data: step 1\ndata: step 2\ndata: \n\ndata:  indented\n\n");
    expect(got.map((m) => m.data).join("")).toBe("step 1\nstep 2\n indented");
  });
});
