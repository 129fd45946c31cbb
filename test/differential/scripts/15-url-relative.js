// Exercises: relative URL resolution against a base (the RFC 3986 section 5.4
// normal and abnormal examples), dot segments, protocol-relative and query-only
// references, backslashes in special URLs, and URL.canParse / invalid input.
export const requests = [{ name: "rfc3986 table", path: "/" }];

const base = "http://a/b/c/d;p?q";
const refs = [
  "g:h", "g", "./g", "g/", "/g", "//g", "?y", "g?y", "#s", "g#s", "g?y#s", ";x", "g;x", "g;x?y#s", "", ".", "./",
  "..", "../", "../g", "../..", "../../", "../../g", "../../../g", "../../../../g", "/./g", "/../g", "g.", ".g", "g..", "..g",
  "./../g", "./g/.", "g/./h", "g/../h", "g;x=1/./y", "g;x=1/../y", "g?y/./x", "g?y/../x", "g#s/./x", "g#s/../x", "http:g",
  "\\\\x\\y", "%2e%2E/g", "  /trimmed  ",
];

export default {
  async fetch() {
    const resolved = {};
    for (const r of refs) {
      try {
        resolved[r] = new URL(r, base).href;
      } catch (e) {
        resolved[r] = `throws ${e.name}`;
      }
    }
    let invalid;
    try {
      new URL("/relative-without-base");
      invalid = "parsed";
    } catch (e) {
      invalid = e.name;
    }
    return Response.json({
      resolved,
      invalid,
      canParse: [URL.canParse("x", "http://a/"), URL.canParse("x"), URL.canParse("http://[::1")],
      fromRequest: new URL("../up?x=1", "https://example.com/a/b/c").href,
    });
  },
};
