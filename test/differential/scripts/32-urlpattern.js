// Exercises: URLPattern: pathname groups (named, optional, wildcard, regexp),
// test() and exec() results, matching against full URLs with a baseURL, hostname
// patterns with wildcards, search patterns, ignoreCase, and an invalid pattern
// (TypeError). Used to route the request itself.
export const requests = [
  { name: "book", path: "/books/42" },
  { name: "book with format", path: "/books/42.json" },
  { name: "files", path: "/files/a/b/c.txt?download=1" },
  { name: "no match", path: "/magazines/1" },
];

export default {
  async fetch(request) {
    const book = new URLPattern({ pathname: "/books/:id(\\d+){.:format}?" });
    const files = new URLPattern({ pathname: "/files/*", search: "download=:flag" });
    const m = book.exec(request.url) ?? files.exec(request.url);
    const checks = {
      test: book.test({ pathname: "/books/7" }),
      testBad: book.test({ pathname: "/books/x" }),
      host: new URLPattern({ hostname: "{*.}?example.com" }).test("https://api.example.com/x"),
      hostNo: new URLPattern({ hostname: "{*.}?example.com" }).test("https://example.org/"),
      base: new URLPattern("/api/:v/*", "https://example.com").exec("https://example.com/api/v2/users/1")?.pathname.groups,
      ignoreCase: new URLPattern({ pathname: "/ABC" }, { ignoreCase: true }).test({ pathname: "/abc" }),
      pathnameSource: book.pathname,
      protocol: book.protocol,
      hasRegExpGroups: book.hasRegExpGroups,
    };
    try {
      new URLPattern({ pathname: "/(unclosed" });
      checks.invalid = "accepted";
    } catch (e) {
      checks.invalid = e.name;
    }
    if (!m) return Response.json({ match: null, checks }, { status: 404 });
    return Response.json({ match: { pathname: m.pathname, search: m.search.groups, inputs: m.inputs.length }, checks });
  },
};
