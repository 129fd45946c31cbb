// Exercises: HTMLRewriter element mutations, as workerd's native lol-html does them:
// tagName get/set, the attributes iterator, get/has/set/removeAttribute, before/after/
// prepend/append/replace/setInnerContent as text and with { html: true }, remove,
// removeAndKeepContent, removed, namespaceURI (SVG, MathML), onEndTag (rename, before/after,
// remove), a handler object that is a class instance (its methods see `this`), an async
// handler, selectors (attribute operators, combinators, :nth-child, :not), several
// handlers on one element, one rewriter transforming two responses, and the errors:
// a selector that does not parse, a handler that throws (the body errors with it), a
// token used after its handler, invalid names, and transform() of a non-Response.
export const requests = [
  { name: "mutations", path: "/mutations" },
  { name: "selectors", path: "/selectors" },
  { name: "handlers", path: "/handlers" },
  { name: "errors", path: "/errors" },
  { name: "passthrough", path: "/passthrough" },
];

const PAGE = `<!DOCTYPE html>
<html lang="en"><head><title>Title &amp; more</title><meta charset="utf-8"></head>
<body class="main">
<div id="a" class="x y" data-n="1"><p>First <b>bold</b> <i>it</i></p><p class="note">Second</p></div>
<ul><li>one</li><li class="k">two</li><li>three</li><li>four</li></ul>
<a href="http://example.com/a?x=1">link</a><a href="/rel">rel</a><img src="i.png" alt="pic"><br/>
<svg viewBox="0 0 1 1"><circle r="1"/><foreignObject><span>in svg</span></foreignObject></svg>
<math><mi>x</mi></math>
<section><h2>Gone</h2><p>also gone</p></section><span class="unwrap"><em>kept</em></span>
<textarea>raw <b>text</b></textarea><script>var a = "<p>";</script>
</body></html>`;

function page(headers) {
  return new Response(PAGE, { headers: { "content-type": "text/html;charset=UTF-8", ...headers } });
}

async function mutations() {
  const seen = [];
  const res = new HTMLRewriter()
    .on("div#a", {
      element(e) {
        seen.push([e.tagName, [...e.attributes], e.getAttribute("data-n"), e.getAttribute("nope"), e.hasAttribute("class"), e.hasAttribute("nope"), e.removed, e.namespaceURI]);
        e.setAttribute("data-n", "2").setAttribute("data-new", "a \"quoted\" & <value>").removeAttribute("class");
        e.before("<!-- before div -->", { html: true }).after("<after & text>").prepend("<em>pre</em>", { html: true }).append(" appended <b>as text</b>");
      },
    })
    .on("p.note", { element(e) { e.setInnerContent("<strong>replaced</strong>", { html: true }); } })
    .on("b", { element(e) { e.tagName = "strong"; seen.push(e.tagName); } })
    .on("i", { element(e) { e.replace("<u>swapped</u>", { html: true }); seen.push(["i removed", e.removed]); } })
    .on("section", { element(e) { e.remove(); seen.push(["section removed", e.removed]); } })
    .on("span.unwrap", { element(e) { e.removeAndKeepContent(); } })
    .on("a[href^='http:']", { element(e) { e.setAttribute("href", e.getAttribute("href").replace("http:", "https:")); } })
    .on("img", { element(e) { e.setAttribute("loading", "lazy"); e.after("<figcaption>cap</figcaption>", { html: true }); } })
    .on("circle, mi, span", { element(e) { seen.push([e.tagName, e.namespaceURI]); } })
    .on("li", {
      element(e) {
        e.onEndTag((end) => {
          seen.push(["end", end.name]);
          end.before("!", { html: false });
          end.after("<!--/li-->", { html: true });
        });
      },
    })
    .on("ul", { element(e) { e.tagName = "ol"; e.onEndTag((end) => { end.name = "ol"; }); } })
    .on("title", { element(e) { e.setInnerContent("New <title>"); } })
    .on("textarea", { element(e) { e.prepend("<b>x</b>", { html: true }); } })
    .on("script", { element(e) { e.setInnerContent("var b = '</script>';"); } })
    .on("br", { element(e) { e.replace("<hr>", { html: true }); } })
    .transform(page({ "x-origin": "kept" }));
  const body = await res.text();
  return { status: res.status, type: res.headers.get("content-type"), origin: res.headers.get("x-origin"), body, seen };
}

async function selectors() {
  const hits = [];
  const sel = ["li:nth-child(2)", "li:first-child", "li:not(.k)", "div > p", "body p", "[data-n]", "[class~=y]", "[href$='/rel']", "[lang|=en]", "a[href*=example]", "p:nth-of-type(2)", "*"];
  let rw = new HTMLRewriter();
  for (const s of sel) rw = rw.on(s, { element(e) { hits.push(s + " -> " + e.tagName); } });
  const body = await rw.transform(page()).text();
  return { hits, same: body === PAGE };
}

class Counter {
  constructor(prefix) { this.prefix = prefix; this.n = 0; }
  element(e) { this.n++; e.setAttribute("data-i", this.prefix + this.n); }
  text(t) { if (t.text.trim()) t.replace(t.text.toUpperCase()); }
}

async function handlers() {
  const counter = new Counter("li-");
  const order = [];
  const rw = new HTMLRewriter()
    .on("li", counter)
    .on("li", { element(e) { order.push("second " + e.getAttribute("data-i")); } })
    .on("p", {
      async element(e) {
        await new Promise((r) => setTimeout(r, 2));
        await null;
        e.setAttribute("data-async", "yes");
        order.push("async p");
      },
    });
  const one = await rw.transform(page()).text();
  const two = await rw.transform(new Response("<ul><li>again</li></ul>")).text();
  return { one, two, count: counter.n, order };
}

async function errors() {
  const out = {};
  const attempt = async (name, fn) => {
    try {
      out[name] = { ok: String(await fn()) };
    } catch (e) {
      out[name] = { threw: e?.name, message: e?.message, isRangeError: e instanceof RangeError };
    }
  };
  await attempt("bad selector", () => new HTMLRewriter().on("p[", {}));
  await attempt("empty selector", () => new HTMLRewriter().on("", {}));
  await attempt("pseudo selector", () => new HTMLRewriter().on("p:hover", {}));
  await attempt("no handlers", () => new HTMLRewriter().on("p"));
  await attempt("handler not a function", () => new HTMLRewriter().on("p", { element: 5 }));
  await attempt("doc handler not a function", () => new HTMLRewriter().onDocument({ end: "x" }));
  await attempt("transform a string", () => new HTMLRewriter().transform("<p>"));
  await attempt("handler throws", () => new HTMLRewriter().on("p", { element() { throw new RangeError("boom"); } }).transform(page()).text());
  await attempt("async handler rejects", () => new HTMLRewriter().on("p", { async element() { await null; throw new SyntaxError("later"); } }).transform(page()).text());
  await attempt("throws a string", () => new HTMLRewriter().on("b", { element() { throw "plain"; } }).transform(page()).text());
  let stale;
  await attempt("stale token", async () => {
    await new HTMLRewriter().on("p", { element(e) { stale = e; } }).transform(page()).text();
    return stale.getAttribute("x");
  });
  await attempt("bad attribute name", () => new HTMLRewriter().on("p", { element(e) { e.setAttribute("a b", "1"); } }).transform(page()).text());
  await attempt("bad tag name", () => new HTMLRewriter().on("p", { element(e) { e.tagName = ""; } }).transform(page()).text());
  await attempt("bad content options", () => new HTMLRewriter().on("p", { element(e) { e.before("x", 5); } }).transform(page()).text());
  // Output before the failing element still arrives, then the body errors.
  const res = new HTMLRewriter().on("ul", { element() { throw new Error("at ul"); } }).transform(page());
  const reader = res.body.getReader();
  let got = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      got += new TextDecoder().decode(value);
    }
  } catch (e) {
    out.partial = { before: got.length, endsWith: got.slice(-20), error: e.message };
  }
  return out;
}

async function passthrough() {
  const empty = await new HTMLRewriter().on("p", { element(e) { e.remove(); } }).transform(new Response("")).text();
  const nobody = new HTMLRewriter().transform(new Response(null, { status: 204, headers: { "x-a": "1" } }));
  const stream = new ReadableStream({
    start(c) {
      for (const part of ["<p cla", "ss='a'>sp", "lit</p", "><p>two</p>"]) c.enqueue(new TextEncoder().encode(part));
      c.close();
    },
  });
  const split = await new HTMLRewriter().on("p.a", { element(e) { e.setAttribute("class", "b"); } }).transform(new Response(stream)).text();
  const utf8 = await new HTMLRewriter().on("p", { element(e) { e.append("✓ é 😀"); } }).transform(new Response("<p>Grüße 日本</p>")).text();
  const res = new HTMLRewriter().transform(new Response("<p>x</p>", { status: 404, statusText: "Nope", headers: { "x-b": "2" } }));
  return { empty, nobody: [nobody.status, nobody.body, nobody.headers.get("x-a")], split, utf8, status: [res.status, res.statusText, res.headers.get("x-b"), await res.text()] };
}

const ROUTES = { "/mutations": mutations, "/selectors": selectors, "/handlers": handlers, "/errors": errors, "/passthrough": passthrough };

export default {
  async fetch(request) {
    const route = ROUTES[new URL(request.url).pathname];
    return Response.json(await route());
  },
};
