// Exercises: HTMLRewriter text chunks, comments, doctypes and the document end, as
// workerd's native lol-html gives them: text chunk boundaries (whole-body and streamed
// input, text split across input chunks, entities, multi-byte characters split between
// chunks), lastInTextNode (the empty last chunk), text replace/before/after/remove (as
// text and as HTML), comments in elements and in the document (text get/set, replace,
// before/after, remove, removed), doctypes (name, publicId, systemId; none, legacy and
// quirky ones), onDocument text, and document end append.
export const requests = [
  { name: "text chunks", path: "/text" },
  { name: "streamed text", path: "/streamed" },
  { name: "comments", path: "/comments" },
  { name: "doctype and end", path: "/document" },
];

function streamOf(parts) {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const p of parts) c.enqueue(typeof p === "string" ? enc.encode(p) : p);
      c.close();
    },
  });
}

async function text() {
  const chunks = [];
  const body = await new HTMLRewriter()
    .on("p", {
      text(t) {
        chunks.push([t.text, t.lastInTextNode, t.removed]);
        if (t.text.includes("upper")) t.replace(t.text.toUpperCase());
        if (t.text.includes("drop")) {
          t.remove();
          chunks.push(["removed now", t.removed]);
        }
        if (t.text.includes("wrap")) t.before("<b>", { html: true }).after("</b>", { html: true });
        if (t.text.includes("escape")) t.after("<i>not a tag</i>");
      },
    })
    .on("pre", { text(t) { chunks.push(["pre", t.text, t.lastInTextNode]); } })
    .on("script, style", { text(t) { chunks.push(["raw", t.text]); } })
    .transform(new Response("<p>plain &amp; entity &lt;x&gt; caf\u00e9</p><p>make upper</p><p>drop me</p><p>wrap me</p><p>escape</p><p></p><pre>\n  spaced\n</pre><script>if (a < b) {}</script><style>p > b {}</style>"))
    .text();
  return { body, chunks };
}

async function streamed() {
  const enc = new TextEncoder();
  const euro = enc.encode("€");
  const chunks = [];
  const body = await new HTMLRewriter()
    .on("p", { text(t) { chunks.push([t.text, t.lastInTextNode]); } })
    .onDocument({ text(t) { if (t.text.trim()) chunks.push(["doc", t.text, t.lastInTextNode]); } })
    .transform(new Response(streamOf(["<p>first ha", "lf and second half</p><p>", "price 1", euro.slice(0, 1), euro.slice(1), " end</p>tail ", "text"])))
    .text();
  return { body, chunks };
}

async function comments() {
  const seen = [];
  const body = await new HTMLRewriter()
    .on("div", {
      comments(c) {
        seen.push(["div", c.text, c.removed]);
        if (c.text.includes("remove")) {
          c.remove();
          seen.push(["removed", c.removed]);
        } else if (c.text.includes("replace")) c.replace("<span>was a comment</span>", { html: true });
        else if (c.text.includes("rename")) c.text = " renamed ";
        else c.before("[", { html: false }).after("]", { html: true });
      },
    })
    .onDocument({
      comments(c) {
        seen.push(["doc", c.text]);
        if (c.text.includes("top")) c.after("<!-- added -->", { html: true });
      },
    })
    .transform(new Response("<!-- top --><div><!-- remove me --><!-- replace me --><!-- rename me --><!-- keep me --></div><!---->"))
    .text();
  return { body, seen };
}

async function documentHandlers() {
  const cases = {
    html5: "<!DOCTYPE html><p>x</p>",
    legacy: '<!DOCTYPE html PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd"><p>y</p>',
    system: '<!doctype html SYSTEM "about:legacy-compat">',
    none: "<p>no doctype</p>",
    empty: "",
  };
  const out = {};
  for (const [name, html] of Object.entries(cases)) {
    const seen = [];
    const body = await new HTMLRewriter()
      .onDocument({
        doctype(d) { seen.push([d.name, d.publicId, d.systemId]); },
        end(end) {
          seen.push("end");
          end.append("<!-- appended -->", { html: true }).append("<as text>");
        },
      })
      .onDocument({ end(end) { end.append("|second"); } })
      .transform(new Response(html))
      .text();
    out[name] = { body, seen };
  }
  return out;
}

const ROUTES = { "/text": text, "/streamed": streamed, "/comments": comments, "/document": documentHandlers };

export default {
  async fetch(request) {
    return Response.json(await ROUTES[new URL(request.url).pathname]());
  },
};
