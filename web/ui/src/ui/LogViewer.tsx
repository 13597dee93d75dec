// File: ui/LogViewer.tsx
//
// A job's log, live. It streams GetJobLogs with follow (starting at most
// TAIL_BYTES from the end, so a huge log opens instantly); each event's data
// is the next piece of the log's text (the bridge sends logs as text lines,
// web/bridge/sse_encoder.h), appended once per frame. The page keeps at
// most MAX_LINES lines (logic/logBuffer.ts drops whole blocks from the
// front), so memory and DOM stay bounded however long the job runs. The
// view sticks to the bottom until the user scrolls up. Download saves the
// whole log.

import { useEffect, useRef, useState } from "preact/hooks";
import { streamSse } from "../api/sse";
import { ApiError } from "../api/client";
import { cleanLogText, LogBuffer } from "../logic/logBuffer";
import { plural } from "../logic/format";

const TAIL_BYTES = 1 << 20;
const MAX_LINES = 5000;

type Status = "connecting" | "streaming" | "ended" | "error";

export function LogViewer({ jobId, live, fileName }: { jobId: string; live: boolean; fileName: string }) {
  const preRef = useRef<HTMLPreElement>(null);
  const [status, setStatus] = useState<Status>("connecting");
  const [error, setError] = useState("");
  const [follow, setFollow] = useState(true);
  const [wrap, setWrap] = useState(true);
  const [stats, setStats] = useState({ lines: 0, dropped: 0 });
  const [reload, setReload] = useState(0);
  const followRef = useRef(true);
  followRef.current = follow;

  useEffect(() => {
    const pre = preRef.current!;
    pre.textContent = "";
    const abort = new AbortController();
    const buffer = new LogBuffer(MAX_LINES);
    let pending = "";
    let frame = 0;
    const flush = () => {
      frame = 0;
      if (!pending) return;
      const text = cleanLogText(pending);
      pending = "";
      const dropped = buffer.append(text);
      for (let i = 0; i < dropped && pre.firstChild; i++) pre.removeChild(pre.firstChild);
      const last = buffer.blocks[buffer.blocks.length - 1];
      if (last) pre.appendChild(document.createTextNode(last.text));
      setStats({ lines: buffer.lines, dropped: buffer.droppedLines });
      if (followRef.current) pre.scrollTop = pre.scrollHeight;
    };
    const schedule = () => {
      if (!frame) frame = requestAnimationFrame(flush);
    };
    setStatus("connecting");
    setError("");
    streamSse(`/api/jobs/${encodeURIComponent(jobId)}/logs?follow=${live}&tail_bytes=${TAIL_BYTES}`, {
      signal: abort.signal,
      onOpen: () => setStatus("streaming"),
      onMessage: (m) => {
        pending += m.data;
        schedule();
      },
    }).then(
      () => {
        if (abort.signal.aborted) return;
        flush();
        setStatus("ended");
      },
      (err) => {
        if (abort.signal.aborted) return;
        flush();
        setStatus("error");
        setError(err instanceof ApiError ? err.message : String(err));
      },
    );
    return () => {
      abort.abort();
      cancelAnimationFrame(frame);
    };
    // `live` is read once per job: the stream ends by itself when the job does.
  }, [jobId, reload]);

  const onScroll = () => {
    const pre = preRef.current!;
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 24;
    if (atBottom !== followRef.current) setFollow(atBottom);
  };

  const download = async () => {
    const parts: BlobPart[] = [];
    try {
      await streamSse(`/api/jobs/${encodeURIComponent(jobId)}/logs`, {
        signal: new AbortController().signal,
        onMessage: (m) => parts.push(m.data),
      });
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
      return;
    }
    const url = URL.createObjectURL(new Blob(parts, { type: "text/plain" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = fileName;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };

  return (
    <div class="logviewer">
      <div class="log-toolbar">
        <span class={`pill ${status === "streaming" ? "good" : status === "error" ? "bad" : "plain"}`} data-testid="log-status">
          <span class="dot" aria-hidden="true" />
          {status === "streaming" ? (live ? "following" : "loading") : status === "ended" ? "end of log" : status}
        </span>
        <span class="muted small">
          {plural(stats.lines, "line")}
          {stats.dropped ? ` shown · ${plural(stats.dropped, "earlier line")} dropped from view` : ""}
        </span>
        <span class="spacer" />
        <label class="check small">
          <input type="checkbox" checked={wrap} onChange={(e) => setWrap(e.currentTarget.checked)} /> wrap
        </label>
        {!follow && (
          <button
            type="button"
            class="btn small"
            onClick={() => {
              setFollow(true);
              const pre = preRef.current!;
              pre.scrollTop = pre.scrollHeight;
            }}
          >
            ↓ Follow
          </button>
        )}
        <button type="button" class="btn small ghost" onClick={() => setReload(reload + 1)}>
          Reload
        </button>
        <button type="button" class="btn small ghost" onClick={() => void download()}>
          Download
        </button>
      </div>
      {error && (
        <div class="form-error" role="alert">
          {error}
        </div>
      )}
      <pre
        ref={preRef}
        class={`log ${wrap ? "wrap" : ""}`}
        tabIndex={0}
        aria-label={`Log of job ${jobId}`}
        aria-live="off"
        onScroll={onScroll}
        data-testid="log"
      />
    </div>
  );
}
