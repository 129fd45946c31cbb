/**
 * An incremental parser of `text/event-stream` (WHATWG HTML §9.2.6 "Parsing an
 * event stream"): lines end in CRLF, LF or CR; `field: value` with one optional
 * space; `data` lines join with "\n"; a blank line dispatches; `:` starts a
 * comment (a keep-alive). Fed decoded text chunk by chunk, it returns the
 * events each chunk completed.
 */

export interface SseEvent {
  /** `message` when the event named none. */
  event: string;
  data: string;
  id: string | undefined;
}

export interface SseParser {
  push(text: string): SseEvent[];
}

export function createSseParser(): SseParser {
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let id: string | undefined;
  const line = (text: string, out: SseEvent[]) => {
    if (text === "") {
      if (data.length > 0) out.push({ event: event || "message", data: data.join("\n"), id });
      event = "";
      data = [];
      return;
    }
    if (text.startsWith(":")) return;
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
    else if (field === "id" && !value.includes("\u0000")) id = value;
  };
  return {
    push(text) {
      buffer += text;
      const out: SseEvent[] = [];
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer.charCodeAt(i);
        if (c !== 10 && c !== 13) continue;
        // A CR at the very end may be the first half of a CRLF split across chunks: wait for more.
        if (c === 13 && i === buffer.length - 1) break;
        line(buffer.slice(start, i), out);
        if (c === 13 && buffer.charCodeAt(i + 1) === 10) i++;
        start = i + 1;
      }
      buffer = buffer.slice(start);
      return out;
    },
  };
}
