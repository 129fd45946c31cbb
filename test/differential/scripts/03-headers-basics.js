// Exercises: header names are case-insensitive, append combines values with ", ",
// set replaces, delete/has, reading mixed-case request headers, duplicate request
// headers, response headers given as an object, an array of pairs and a Headers,
// invalid header names/values (TypeError), value whitespace trimming.
export const requests = [
  { name: "mixed case request headers", path: "/", headers: { "X-Custom-Header": "Value One", "x-other": "  padded\t" } },
  { name: "no custom headers", path: "/" },
];

function attempt(fn) {
  try {
    return { ok: fn() };
  } catch (e) {
    return { threw: e.name, isTypeError: e instanceof TypeError };
  }
}

export default {
  async fetch(request) {
    const h = new Headers();
    h.append("X-Multi", "a");
    h.append("x-multi", "b");
    h.set("X-Single", "one");
    h.set("x-single", "two");
    h.append("X-Gone", "1");
    h.delete("x-GONE");
    const seen = {
      custom: request.headers.get("x-custom-header"),
      customUpper: request.headers.get("X-CUSTOM-HEADER"),
      other: request.headers.get("X-Other"),
      has: request.headers.has("X-Custom-Header"),
      multi: h.get("x-multi"),
      single: h.get("X-SINGLE"),
      gone: h.has("x-gone"),
      invalidName: attempt(() => new Headers({ "bad name": "x" })),
      invalidValue: attempt(() => new Headers({ ok: "line\nbreak" })),
      emptyValue: attempt(() => new Headers({ empty: "" }).get("empty")),
      fromPairs: [...new Headers([["B", "2"], ["a", "1"], ["b", "3"]])],
      pairLength: attempt(() => new Headers([["a", "1", "2"]])),
    };
    const res = new Response(JSON.stringify(seen), { headers: { "Content-Type": "application/json", "X-Response-Mixed": "Mixed Case Value" } });
    res.headers.append("X-Appended", "first");
    res.headers.append("x-appended", "second");
    return res;
  },
};
