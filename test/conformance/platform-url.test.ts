/**
 * URL, URLSearchParams and URLPattern inside the isolate, checked against
 * Node's own WHATWG URL (ada, which passes the WPT URL suite) on the host.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { evalGuest } from "../helpers/guest.ts";

type Parts = Record<string, string> | { error: string };

const PARTS = ["href", "origin", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash"] as const;

function hostParse(input: string, base?: string): Parts {
  try {
    const u = base === undefined ? new URL(input) : new URL(input, base);
    return Object.fromEntries(PARTS.map((k) => [k, u[k]]));
  } catch {
    return { error: "TypeError" };
  }
}

async function guestParse(cases: Array<[string, string | undefined]>): Promise<Parts[]> {
  return (await evalGuest(`
    const parts = ${JSON.stringify(PARTS)};
    return ${JSON.stringify(cases)}.map(([input, base]) => {
      try {
        const u = base === null ? new URL(input) : new URL(input, base);
        return Object.fromEntries(parts.map((k) => [k, u[k]]));
      } catch (e) {
        return { error: e.name };
      }
    });
  `)) as Parts[];
}

/** Inputs from the WPT urltestdata corpus and the edges of each parser state. */
const TRICKY: Array<[string, string?]> = [
  ["http://example\t.\norg", "http://example.org/foo/bar"],
  ["http://user:pass@foo:21/bar;par?b#c"],
  ["https://test:@test"],
  ["non-special://test:@test/x"],
  ["http:foo.com", "http://example.org/foo/bar"],
  ["\t   :foo.com   \n", "http://example.org/foo/bar"],
  ["a:\t foo.com"],
  ["http://f:21/ b ? d # e "],
  ["lolscheme:x x#x x"],
  ["http://f:00000000000000000000080/c"],
  ["http://f:b/c"],
  ["http://f:999999/c"],
  ["\\\\x\\hello", "http://example.org/foo/bar"],
  ["foo://"],
  ["http://&a:foo(b]c@d:2/"],
  ["http://::@c@d:2"],
  ["http://foo.com/\\@"],
  ["http://[1:0::]"],
  ["http://[0:0:0:0:0:0:13.1.68.3]"],
  ["http://[::127.0.0.1]"],
  ["http://[1::2::3]"],
  ["http://[::1.2.3.]"],
  ["http://[www.google.com]/"],
  ["http://0x7f.1/"],
  ["http://192.168.0.257"],
  ["http://0300.0250.0.1/"],
  ["http://4294967295"],
  ["http://4294967296"],
  ["http://1.2.3.09"],
  ["http://foo.09"],
  ["http://%30%78%63%30%2e%30%32%35%30.01"],
  ["http://ExAmPlE.CoM/ÿ"],
  ["http://münchen.de/"],
  ["http://faß.de/"],
  ["http://ＡＢＣ.com/"],
  ["http://日本.jp/パス?クエリ#フラグ"],
  ["http://☃.net/"],
  ["http://%E2%98%83.com"],
  ["http://a<b"],
  ["http://a^b"],
  ["non-special://a<b"],
  ["http://a b"],
  ["http://%zz"],
  ["file:///C:/a/b"],
  ["file://localhost/a"],
  ["file:c:\\foo\\bar", "file:///tmp/mock/path"],
  ["file:..", "http://www.example.com/test"],
  ["file:///C|/foo"],
  ["/c:/foo/bar", "file:///c:/baz/qux"],
  ["..", "file:///C:/"],
  ["http://example.com/foo/../bar/./baz"],
  ["http://example.com/foo/%2e%2E/bar"],
  ["http://example.com////../.."],
  ["http://example.com/foo\t\u0091%91"],
  ["http://example.com/\ud800\u597d"],
  ["http://example.com/?'\"<>`"],
  ["sc://x/?'\"<>`"],
  ["http://example.com/#'\"<>` {}"],
  ["javascript:alert(1)"],
  ["data:text/html,<b>x</b>"],
  ["blob:https://a.com/uuid"],
  ["sc:\\../"],
  ["sc::a@example.net"],
  ["wss://x:443/"],
  ["ws://x:80/"],
  ["ftp://x:21/"],
  ["http:/example.com/"],
  ["http:\\\\example.com"],
  ["?x", "http://a/b?c#d"],
  ["#x", "sc:opaque"],
  ["x", "sc:opaque"],
  ["//x/y", "https://a/b"],
  ["  http://a  "],
  ["\u0000http://a/\u001f"],
  ["http://a:65536"],
  ["http://a.:80"],
  ["http://0..0x300/"],
  ["http://1.2.3.4./"],
  ["http://[::ffff:1.2.3.4]/"],
  ["non-spec:/.//"],
  ["non-spec:/a/..//"],
  ["web+demo:/.//not-a-host/"],
  ["http://a/b/c/../../../../d"],
  ["http://user@host:pass@x"],
  ["http://u%40ser:p%3Ass@x"],
  ["http://"],
  ["sc:"],
  ["relative"],
];

test("URL parses tricky inputs exactly as Node's URL does", async () => {
  const cases = TRICKY.map(([i, b]) => [i, b ?? null] as [string, string | undefined]);
  const got = await guestParse(cases);
  for (let k = 0; k < TRICKY.length; k++) {
    const [input, base] = TRICKY[k]!;
    assert.deepEqual(got[k], hostParse(input, base), `new URL(${JSON.stringify(input)}${base ? `, ${JSON.stringify(base)}` : ""})`);
  }
});

test("URL agrees with Node's URL on 600 generated inputs", async () => {
  const parts = ["http:", "https:", "sc:", "file:", "//", "/", "\\", "..", ".", "%2e", "a", "B", "ü", "☃", "@", ":", "[::1]", "[", "]", "?", "#", "%", "%41", "0x10", "1.2.3.4", "09", " ", "\t", "xn--", "ß", "é", "'", "<", ";", "=", "&", "+", "80"];
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n);
  const cases: Array<[string, string | undefined]> = [];
  for (let k = 0; k < 600; k++) {
    let s = ["http://", "https://", "sc://", "file:///", "", "/"][rnd(6)]!;
    for (let j = 1 + rnd(8); j > 0; j--) s += parts[rnd(parts.length)];
    cases.push([s, [undefined, "http://base.example/p/q?x#y", "sc://h/p/q"][rnd(3)]]);
  }
  const got = await guestParse(cases.map(([i, b]) => [i, b ?? null] as [string, string | undefined]));
  cases.forEach(([input, base], k) => assert.deepEqual(got[k], hostParse(input, base), `new URL(${JSON.stringify(input)}, ${JSON.stringify(base)})`));
});

test("URL setters, searchParams sync, statics and serialization", async () => {
  const r = await evalGuest(`
    const u = new URL("http://example.com/a?x=1#f");
    u.protocol = "https"; u.username = "me"; u.password = "p@ss"; u.port = "8443";
    u.pathname = "/b c"; u.hash = "g"; u.searchParams.append("y", "2 3");
    const afterParams = u.href;
    u.search = "?z=9";
    u.host = "other.test:9000"; u.hostname = "final.test";
    const invalid = []; try { new URL("nope"); } catch (e) { invalid.push(e.name, e instanceof TypeError); }
    return {
      afterParams, href: u.href, z: u.searchParams.get("z"), json: JSON.stringify({ u }), str: String(u),
      canParse: [URL.canParse("http://x"), URL.canParse("x"), URL.canParse("x", "http://y")],
      parse: [URL.parse("nope"), URL.parse("/p", "http://h").href], invalid,
      proto: Object.getOwnPropertyNames(URL.prototype).sort(),
    };
  `);
  const u = new URL("http://example.com/a?x=1#f");
  u.protocol = "https";
  u.username = "me";
  u.password = "p@ss";
  u.port = "8443";
  u.pathname = "/b c";
  u.hash = "g";
  u.searchParams.append("y", "2 3");
  const afterParams = u.href;
  u.search = "?z=9";
  u.host = "other.test:9000";
  u.hostname = "final.test";
  assert.deepEqual(r, {
    afterParams,
    href: u.href,
    z: "9",
    json: JSON.stringify({ u }),
    str: u.href,
    canParse: [true, false, true],
    parse: [null, "http://h/p"],
    invalid: ["TypeError", true],
    proto: ["constructor", "hash", "host", "hostname", "href", "origin", "password", "pathname", "port", "protocol", "search", "searchParams", "toJSON", "toString", "username"].sort(),
  });
});

test("URLSearchParams follows application/x-www-form-urlencoded", async () => {
  const inputs = ["a=1&b=2&a=3", "?q=%20+x%2B&&=&empty", "k=%zz&%F0%9F%98%80=smile", "a=b=c", "ä=ö&€"];
  const r = (await evalGuest(`
    return ${JSON.stringify(inputs)}.map((s) => {
      const p = new URLSearchParams(s);
      const sorted = new URLSearchParams(s); sorted.sort();
      return { entries: [...p], str: p.toString(), sorted: sorted.toString(), size: p.size };
    });
  `)) as unknown[];
  assert.deepEqual(
    r,
    inputs.map((s) => {
      const p = new URLSearchParams(s);
      const sorted = new URLSearchParams(s);
      sorted.sort();
      return { entries: [...p], str: p.toString(), sorted: sorted.toString(), size: p.size };
    }),
  );
  const ops = await evalGuest(`
    const p = new URLSearchParams([["a", "1"], ["b", "2"], ["a", "3"]]);
    p.set("a", "x y"); p.delete("b", "nope"); const hasB2 = p.has("b", "2"); p.delete("b");
    const fromRecord = new URLSearchParams({ "k&": "v=", n: 5 }).toString();
    const seen = []; p.forEach((v, k) => seen.push(k + ":" + v));
    let err; try { new URLSearchParams([["only-one"]]); } catch (e) { err = e.name; }
    return { str: p.toString(), hasB2, fromRecord, seen, err, keys: [...p.keys()], tag: Object.prototype.toString.call(p) };
  `);
  assert.deepEqual(ops, { str: "a=x+y", hasB2: true, fromRecord: "k%26=v%3D&n=5", seen: ["a:x y"], err: "TypeError", keys: ["a"], tag: "[object URLSearchParams]" });
});

test("URLPattern matches and extracts groups", async () => {
  const r = await evalGuest(`
    const p = new URLPattern({ pathname: "/books/:id(\\\\d+)/:rest*" });
    const q = new URLPattern("https://*.example.com/api/:version/*");
    const m = q.exec("https://eu.example.com/api/v2/users/7?x=1");
    return {
      t: [p.test("https://x.com/books/12/a/b"), p.test("https://x.com/books/abc")],
      groups: p.exec({ pathname: "/books/12/a/b" }).pathname.groups,
      host: m.hostname.groups, version: m.pathname.groups.version, star: m.pathname.groups["0"],
      pathname: p.pathname, isClass: typeof URLPattern === "function",
    };
  `);
  assert.deepEqual(r, {
    t: [true, false],
    groups: { id: "12", rest: "a/b" },
    host: { "0": "eu" },
    version: "v2",
    star: "users/7",
    pathname: "/books/:id(\\d+)/:rest*",
    isClass: true,
  });
});
