// Exercises: FormData from an application/x-www-form-urlencoded request body
// (request.formData()): repeated keys, "+" and percent decoding, empty values;
// building a FormData by hand (append/set/delete/getAll/has, iteration order) and
// sending it back urlencoded via URLSearchParams; formData() on a non-form body (TypeError).
export const requests = [
  { name: "urlencoded", method: "POST", path: "/parse", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "name=Ada+Lovelace&lang=en&lang=fr&note=a%26b%3Dc&empty=&unicode=%C3%A9" },
  { name: "urlencoded with charset", method: "POST", path: "/parse", headers: { "content-type": "application/x-www-form-urlencoded;charset=UTF-8" }, body: "x=1" },
  { name: "not a form", method: "POST", path: "/parse", headers: { "content-type": "text/plain" }, body: "x=1" },
  { name: "build", path: "/build" },
];

export default {
  async fetch(request) {
    if (new URL(request.url).pathname === "/build") {
      const fd = new FormData();
      fd.append("b", "2");
      fd.append("a", "1");
      fd.append("b", "3");
      fd.set("c", "x");
      fd.set("b", "only");
      fd.append("d", "del");
      fd.delete("d");
      return new Response(new URLSearchParams([...fd]).toString(), { headers: { "x-keys": [...fd.keys()].join(","), "x-has-d": String(fd.has("d")) } });
    }
    try {
      const fd = await request.formData();
      return Response.json({
        entries: [...fd],
        langs: fd.getAll("lang"),
        name: fd.get("name"),
        missing: fd.get("missing"),
        typeofValue: typeof fd.get("note"),
      });
    } catch (e) {
      return Response.json({ error: e.name }, { status: 400 });
    }
  },
};
