// Exercises: several Set-Cookie headers on one response (never combined on the
// wire), Headers#getSetCookie(), get("set-cookie") joining with ", ", iteration
// yielding set-cookie entries separately, cookie attributes with commas (Expires).
export const requests = [{ name: "login", method: "POST", path: "/login" }];

export default {
  async fetch() {
    const h = new Headers();
    h.append("Set-Cookie", "session=abc123; Path=/; HttpOnly; Secure; SameSite=Lax");
    h.append("set-cookie", "theme=dark; Expires=Wed, 21 Oct 2037 07:28:00 GMT");
    h.append("Set-Cookie", "empty=; Max-Age=0");
    const report = {
      getSetCookie: h.getSetCookie(),
      joined: h.get("set-cookie"),
      entries: [...h],
      emptyGetSetCookie: new Headers().getSetCookie(),
      fromInit: new Headers([["set-cookie", "a=1"], ["Set-Cookie", "b=2"]]).getSetCookie(),
    };
    h.set("content-type", "application/json");
    return new Response(JSON.stringify(report), { headers: h });
  },
};
