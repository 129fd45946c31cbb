/**
 * HTMLRewriter inside the isolate (workerd's API over lol-html in WebAssembly): every
 * method of the units a handler gets, async and class handlers, streaming (output before
 * the input ended), how errors surface, and the budgets (CPU, memory) holding while a
 * page is parsed. test/differential/scripts/44-* and 45-* compare the output with workerd's.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type ServerResponse } from "node:http";
import { evalGuest } from "../helpers/guest.ts";
import { listenDuringTests } from "../helpers/local-server.ts";

let base = "";
/** /slow sends its first part, then waits for /release before sending the rest. */
let held: ServerResponse | null = null;
const server = createServer((req, res) => {
  if (req.url === "/slow") {
    res.writeHead(200, { "content-type": "text/html" });
    res.write("<html><body><p>first part</p>");
    held = res;
  } else if (req.url === "/release") {
    held?.end("<p>second part</p></body></html>");
    held = null;
    res.end("released");
  } else res.writeHead(404).end();
});
listenDuringTests(server, (url) => (base = url));

const limitError = (code: string) => (e: unknown) => {
  assert.equal((e as { code?: unknown }).code, code, `expected ${code}, got ${String((e as Error).message)}`);
  return true;
};

test("Element: tag name, attributes, namespace and every mutation", async () => {
  const r = await evalGuest(`
    const seen = [];
    const res = new HTMLRewriter()
      .on("div", { element(e) {
        seen.push(e.tagName, [...e.attributes], typeof e.attributes.next, e.getAttribute("id"), e.getAttribute("none"), e.hasAttribute("class"), e.hasAttribute("none"), e.namespaceURI, e.removed);
        e.tagName = "section";
        e.setAttribute("id", "b").setAttribute("data-q", "a\\"b").removeAttribute("class");
        e.before("<hr>", { html: true }).after("<after>").prepend("<i>pre</i>", { html: true }).append("&end");
      } })
      .on("circle", { element(e) { seen.push(e.namespaceURI); } })
      .on("p.inner", { element(e) { e.setInnerContent("<b>new</b>", { html: true }); } })
      .on("em", { element(e) { e.replace("<strong>swapped</strong>", { html: true }); seen.push(e.removed); } })
      .on("aside", { element(e) { e.remove(); } })
      .on("span", { element(e) { e.removeAndKeepContent(); } })
      .on("li", { element(e) { e.onEndTag((end) => { seen.push("end " + end.name); end.name = "li"; end.before("!"); end.after("<!--/-->", { html: true }); }); } })
      .transform(new Response('<div id="a" class="c"><p class="inner">old</p><em>x</em></div><svg><circle/></svg><aside>gone</aside><span><u>kept</u></span><ul><li>1</li><li>2</li></ul>'));
    return { body: await res.text(), seen };
  `);
  assert.deepEqual(r, {
    body: '<hr><section id="b" data-q="a&quot;b"><i>pre</i><p class="inner"><b>new</b></p><strong>swapped</strong>&amp;end</section>&lt;after&gt;<svg><circle/></svg><u>kept</u><ul><li>1!</li><!--/--><li>2!</li><!--/--></ul>',
    seen: ["div", [["id", "a"], ["class", "c"]], "function", "a", null, true, false, "http://www.w3.org/1999/xhtml", false, true, "http://www.w3.org/2000/svg", "end li", "end li"],
  });
});

test("text chunks, comments, doctype and the document end", async () => {
  const r = await evalGuest(`
    const seen = [];
    const body = await new HTMLRewriter()
      .on("p", { text(t) {
        seen.push([t.text, t.lastInTextNode, t.removed]);
        if (t.text === "up") t.replace("UP");
        if (t.text === "gone") { t.remove(); seen.push(t.removed); }
        if (t.text === "wrap") t.before("<b>", { html: true }).after("</b>", { html: true });
      } })
      .onDocument({
        doctype(d) { seen.push([d.name, d.publicId, d.systemId]); },
        comments(c) { seen.push(c.text); if (c.text === " a ") c.text = " b "; else if (c.text === "x") c.replace("<br>", { html: true }); else c.remove(); },
        end(end) { end.append("<!-- end -->", { html: true }); },
      })
      .transform(new Response('<!DOCTYPE html><p>up</p><p>gone</p><p>wrap</p><!-- a --><!--x--><!--y-->'))
      .text();
    return { body, seen };
  `);
  assert.deepEqual(r, {
    body: "<!DOCTYPE html><p>UP</p><p></p><p><b>wrap</b></p><!-- b --><br><!-- end -->",
    seen: [["html", null, null], ["up", false, false], ["", true, false], ["gone", false, false], true, ["", true, false], ["wrap", false, false], ["", true, false], " a ", "x", "y"],
  });
});

test("handlers may be class instances (methods see `this`) and async: the stream waits for them", async () => {
  const r = await evalGuest(`
    const order = [];
    class Tagger {
      constructor(prefix) { this.prefix = prefix; this.n = 0; }
      async element(e) {
        const n = ++this.n;
        await new Promise((r) => setTimeout(r, 5));
        e.setAttribute("data-n", this.prefix + n);
        order.push("handler " + n);
      }
    }
    const t = new Tagger("p");
    const res = new HTMLRewriter().on("p", t).transform(new Response("<p>1</p><p>2</p><p>3</p>"));
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let body = "";
    for (;;) { const { done, value } = await reader.read(); if (done) break; body += dec.decode(value); order.push("chunk"); }
    return { body, count: t.n, firstIsHandler: order[0] };
  `);
  assert.deepEqual(r, { body: '<p data-n="p1">1</p><p data-n="p2">2</p><p data-n="p3">3</p>', count: 3, firstIsHandler: "handler 1" });
});

test("one HTMLRewriter transforms several responses, also at once", async () => {
  const r = await evalGuest(`
    const rw = new HTMLRewriter().on("b", { async element(e) { await new Promise((r) => setTimeout(r, 3)); e.setInnerContent("B"); } });
    const all = await Promise.all([1, 2, 3].map((i) => rw.transform(new Response("<b>" + i + "</b><b>x</b>")).text()));
    return all;
  `);
  assert.deepEqual(r, ["<b>B</b><b>B</b>", "<b>B</b><b>B</b>", "<b>B</b><b>B</b>"]);
});

test("the output streams: its first chunk arrives while the origin is still sending", async () => {
  const r = await evalGuest(`
    const res = new HTMLRewriter().on("p", { element(e) { e.setAttribute("seen", "1"); } }).transform(await fetch("${base}/slow"));
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let first = "";
    while (!first.includes("</p>")) first += dec.decode((await reader.read()).value);
    // Only now does the origin send the rest: a buffering transform would never get here.
    await (await fetch("${base}/release")).text();
    let rest = "";
    for (;;) { const { done, value } = await reader.read(); if (done) break; rest += dec.decode(value); }
    return { first, rest, status: res.status, type: res.headers.get("content-type") };
  `);
  assert.deepEqual(r, {
    first: '<html><body><p seen="1">first part</p>',
    rest: '<p seen="1">second part</p></body></html>',
    status: 200,
    type: "text/html",
  });
});

test("errors: a bad selector throws from on(), a handler's exception errors the body, tokens expire", async () => {
  const r = await evalGuest(`
    const out = {};
    try { new HTMLRewriter().on("p[", {}); } catch (e) { out.selector = e.name + ": " + e.message; }
    try { new HTMLRewriter().on("p", { element: 1 }); } catch (e) { out.field = e.message; }
    try { new HTMLRewriter().transform("<p>"); } catch (e) { out.transform = e.message; }
    const thrown = new RangeError("boom");
    try { await new HTMLRewriter().on("b", { element() { throw thrown; } }).transform(new Response("<p>a</p><b>x</b>")).text(); } catch (e) { out.same = e === thrown; }
    try { await new HTMLRewriter().on("b", { async element() { await null; throw new SyntaxError("late"); } }).transform(new Response("<b>x</b>")).text(); } catch (e) { out.async = e.name + ": " + e.message; }
    let kept;
    await new HTMLRewriter().on("b", { element(e) { kept = e; } }).transform(new Response("<b>x</b>")).text();
    try { kept.setAttribute("a", "b"); } catch (e) { out.stale = e.message; }
    try { await new HTMLRewriter().on("b", { element(e) { e.setAttribute("a b", "1"); } }).transform(new Response("<b>x</b>")).text(); } catch (e) { out.name = e.name + ": " + e.message; }
    try { await new HTMLRewriter().on("b", { element(e) { e.append(new Response("<i>s</i>"), { html: true }); } }).transform(new Response("<b>x</b>")).text(); } catch (e) { out.streamed = e.name; }
    // After all that, the isolate's parser still works.
    out.after = await new HTMLRewriter().on("b", { element(e) { e.tagName = "i"; } }).transform(new Response("<b>ok</b>")).text();
    return out;
  `);
  assert.deepEqual(r, {
    selector: "TypeError: Parser error: Unexpected end of selector.",
    field: "Incorrect type for the 'element' field on 'ElementContentHandlers': the provided value is not of type 'function'.",
    transform: "Failed to execute 'transform' on 'HTMLRewriter': parameter 1 is not of type 'Response'.",
    same: true,
    async: "SyntaxError: late",
    stale: "This content token is no longer valid. Content tokens are only valid during the execution of the relevant content handler.",
    name: "TypeError: Parser error: ` ` character is forbidden in the attribute name",
    // workerd streams a Response or ReadableStream in; verge refuses it (README, Known divergences).
    streamed: "TypeError",
    after: "<i>ok</i>",
  });
});

test("a body that is used cannot be transformed; a null body stays null", async () => {
  const r = await evalGuest(`
    const used = new Response("<p>x</p>");
    await used.text();
    let err;
    try { new HTMLRewriter().transform(used); } catch (e) { err = e.name; }
    const none = new HTMLRewriter().on("p", { element() {} }).transform(new Response(null, { status: 204, headers: { "x-a": "1" } }));
    const original = new Response("<p>y</p>");
    await new HTMLRewriter().transform(original).text();
    return { err, none: [none.status, none.body, none.headers.get("x-a")], usedAfter: original.bodyUsed };
  `);
  assert.deepEqual(r, { err: "TypeError", none: [204, null, "1"], usedAfter: true });
});

test("a handler that loops ends in ERR_CPU_LIMIT", { timeout: 60_000 }, async () => {
  await assert.rejects(
    evalGuest(`return await new HTMLRewriter().on("p", { element() { for (;;) {} } }).transform(new Response("<p>x</p>")).text();`, { limits: { cpuMs: 50, wallMs: 10_000 } }),
    limitError("ERR_CPU_LIMIT"),
  );
});

test("a huge page of deeply nested tags ends in ERR_CPU_LIMIT, not a hung host", { timeout: 60_000 }, async () => {
  await assert.rejects(
    evalGuest(
      `const chunk = new TextEncoder().encode("<div><span>".repeat(20000));
       const body = new ReadableStream({ pull(c) { c.enqueue(chunk); } });
       return await new HTMLRewriter().on("div span", { element(e) { e.setAttribute("k", "v"); } }).transform(new Response(body)).text();`,
      { limits: { cpuMs: 50, wallMs: 10_000 } },
    ),
    limitError("ERR_CPU_LIMIT"),
  );
});

test("a tag that never ends grows the parser's memory until ERR_MEMORY_LIMIT", { timeout: 60_000 }, async () => {
  // lol-html keeps an unfinished start tag whole: this one grows by 1 MiB a chunk, in linear
  // memory the isolate's heap limit does not see (counted by the host, HostBridge.wasmMemory).
  await assert.rejects(
    evalGuest(
      `const piece = new TextEncoder().encode("x".repeat(1 << 20));
       let first = true;
       const body = new ReadableStream({ pull(c) { c.enqueue(first ? new TextEncoder().encode('<a href="') : piece); first = false; } });
       return await new HTMLRewriter().on("a", { element() {} }).transform(new Response(body)).text();`,
      { limits: { memoryMb: 64, cpuMs: 5_000, wallMs: 20_000 } },
    ),
    limitError("ERR_MEMORY_LIMIT"),
  );
});
