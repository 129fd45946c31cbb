// Exercises: percent-encoding per URL component: spaces, quotes, <>, non-ASCII and
// reserved characters in path, query, fragment, userinfo; setters encoding their
// input; encodeURIComponent vs URL serialization; already-encoded sequences kept.
export const requests = [
  { name: "encoded request path", path: "/a%20b/%C3%A9?q=%3Ca%3E#frag" },
];

export default {
  async fetch(request) {
    const u = new URL("http://host/");
    const steps = {};
    u.pathname = "/a b/é/\"quote\"/<>/%41/{x}|^`";
    steps.pathname = u.pathname;
    u.search = "q=a b&x=é&y='\"<>`&z=%zz";
    steps.search = u.search;
    u.hash = "frag ment\"<>`é";
    steps.hash = u.hash;
    u.username = "us er@x";
    u.password = "p:w/d";
    steps.userinfo = [u.username, u.password];
    steps.href = u.href;
    const special = new URL("http://h/p?'q'");
    const nonSpecial = new URL("foo://h/p?'q'");
    return Response.json({
      steps,
      requestUrl: request.url,
      requestPath: new URL(request.url).pathname,
      decoded: decodeURIComponent(new URL(request.url).pathname),
      specialQuote: special.search,
      nonSpecialQuote: nonSpecial.search,
      eURIc: encodeURIComponent("a b/é?&=#+"),
      eURI: encodeURI("http://h/a b/é?x=1&y=#f"),
      searchParamsEncode: new URLSearchParams({ k: "a b+c/é~*'()!" }).toString(),
    });
  },
};
