// Exercises: query parsing with URLSearchParams: repeated keys (getAll), "+" and
// %20 decoding, empty values, keys without "=", has/size, sort (stable), set/delete,
// serialization back to a string, iteration order, params built from an object/array.
export const requests = [
  { name: "basic", path: "/search?q=hello+world&tag=a&tag=b&empty=&flag&x=%20y%26z" },
  { name: "unicode and odd escapes", path: "/search?name=%C3%A9l%C3%A8ve&bad=%zz&pct=100%25&emoji=%F0%9F%98%80" },
  { name: "no query", path: "/search" },
  { name: "only question mark", path: "/search?" },
];

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const p = url.searchParams;
    const out = {
      search: url.search,
      entries: [...p],
      q: p.get("q"),
      tags: p.getAll("tag"),
      missing: p.get("missing"),
      hasFlag: p.has("flag"),
      hasFlagValue: p.has("tag", "b"),
      size: p.size,
      str: p.toString(),
    };
    const copy = new URLSearchParams(p);
    copy.append("z", "last");
    copy.append("a", "first?&=");
    copy.sort();
    copy.delete("tag");
    copy.set("q", "space here/slash");
    out.sorted = copy.toString();
    out.fromObject = new URLSearchParams({ b: "2", a: "1 + 1" }).toString();
    out.fromPairs = new URLSearchParams([["k", "v1"], ["k", "v2"]]).getAll("k");
    out.fromString = [...new URLSearchParams("?a=1&&b=2&=c&d==e")];
    url.searchParams.set("added", "yes");
    out.hrefAfterSet = url.href;
    return Response.json(out);
  },
};
