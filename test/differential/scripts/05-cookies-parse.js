// Exercises: parsing the Cookie request header by hand (split on ";", first "=",
// trim, decodeURIComponent of values, quoted values, duplicates keep the first),
// and echoing one cookie back in a Set-Cookie.
export const requests = [
  { name: "several cookies", path: "/", headers: { cookie: "a=1; b=two%20words; c=\"quoted\"; a=dup; flag; eq=x=y" } },
  { name: "no cookie", path: "/" },
  { name: "bad escape", path: "/", headers: { Cookie: "bad=%E0%A4%A; good=%E2%9C%93" } },
];

function parseCookies(header) {
  const out = {};
  if (!header) return out;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i < 0) continue;
    const name = part.slice(0, i).trim();
    let value = part.slice(i + 1).trim();
    if (value.startsWith("\"") && value.endsWith("\"")) value = value.slice(1, -1);
    if (name in out) continue;
    try {
      out[name] = decodeURIComponent(value);
    } catch (e) {
      out[name] = { undecodable: value, error: e.name };
    }
  }
  return out;
}

export default {
  async fetch(request) {
    const cookies = parseCookies(request.headers.get("cookie"));
    const headers = new Headers({ "content-type": "application/json" });
    if (cookies.a) headers.append("set-cookie", `seen_a=${encodeURIComponent(cookies.a)}; Path=/`);
    return new Response(JSON.stringify({ cookies, count: Object.keys(cookies).length }), { headers });
  },
};
