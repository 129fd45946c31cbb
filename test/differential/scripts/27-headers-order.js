// Exercises: Headers iteration order: names lowercased and sorted, values of
// duplicate names combined in insertion order, set-cookie yielded once per value,
// keys()/values()/forEach, and iteration while mutating. The response's own
// headers are sent in insertion order; the test compares them normalized.
export const requests = [{ name: "order", path: "/", headers: { "X-Zeta": "z", "x-alpha": "a", "X-Mid": "m" } }];

export default {
  async fetch(request) {
    const h = new Headers();
    h.append("Zulu", "1");
    h.append("alpha", "2");
    h.append("Set-Cookie", "b=2");
    h.append("Mike", "3");
    h.append("set-cookie", "a=1");
    h.append("ALPHA", "4");
    const forEach = [];
    h.forEach((value, name) => forEach.push(`${name}=${value}`));
    const mutated = [];
    const m = new Headers({ a: "1", c: "3" });
    for (const [k] of m) {
      mutated.push(k);
      if (k === "a") m.set("b", "2");
    }
    const fromRequest = [...request.headers].filter(([k]) => k.startsWith("x-"));
    return Response.json({ entries: [...h], keys: [...h.keys()], values: [...h.values()], forEach, mutated, fromRequest });
  },
};
