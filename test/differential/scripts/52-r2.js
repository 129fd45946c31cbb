// Exercises: R2 (r2Buckets: ["R2"]): put of each value type with HTTP and custom
// metadata and checksums, get (whole, ranges, conditionals), head, the R2Object
// and R2ObjectBody shapes, writeHttpMetadata, list with prefix / delimiter /
// limit / cursor / startAfter / include, delete, streamed bodies both ways, and
// the errors, and multipart uploads. Upload times and versions differ by nature: the script reports
// their types only. storageClass is left out (Miniflare reports "", Cloudflare
// and verge "Standard"; see DIVERGENCES.md).
export const r2Buckets = ["R2"];
export const requests = [
  { name: "put", path: "/put" },
  { name: "get", path: "/get" },
  { name: "conditional", path: "/conditional" },
  { name: "list", path: "/list" },
  { name: "delete", path: "/delete" },
  { name: "stream", path: "/stream" },
  { name: "serve", path: "/serve" },
  { name: "errors", path: "/errors" },
  { name: "multipart", path: "/multipart" },
];

async function attempt(f) {
  try {
    const v = await f();
    return { ok: v === undefined ? "undefined" : v };
  } catch (e) {
    return { name: e.name, message: e.message };
  }
}

/** An R2Object as plain data, without what differs by nature (uploaded, version) or by runtime (storageClass). */
function plain(o) {
  if (o === null || typeof o !== "object" || !("key" in o)) return o;
  return {
    own: Object.keys(o).filter((k) => k !== "storageClass"),
    key: o.key,
    size: o.size,
    etag: o.etag,
    httpEtag: o.httpEtag,
    version: typeof o.version === "string" && o.version.length > 0,
    uploaded: o.uploaded instanceof Date,
    httpMetadata: o.httpMetadata,
    customMetadata: o.customMetadata,
    checksums: o.checksums.toJSON(),
    md5Bytes: o.checksums.md5 instanceof ArrayBuffer ? o.checksums.md5.byteLength : null,
    range: o.range ?? "none",
    hasBody: "body" in o,
  };
}

const p = (f) => attempt(async () => plain(await f()));

export default {
  async fetch(request, env) {
    const b = env.R2;
    switch (new URL(request.url).pathname) {
      case "/put":
        return Response.json([
          await p(() => b.put("text", "hello world", { httpMetadata: { contentType: "text/plain", cacheControl: "max-age=60", cacheExpiry: new Date(1e12) }, customMetadata: { owner: "me", n: 1 } })),
          await p(() => b.put("bytes", new Uint8Array([0, 1, 2, 255]))),
          await p(() => b.put("buffer", new Uint8Array([104, 105]).buffer)),
          await p(() => b.put("stream", new Response("from a stream").body)),
          await p(() => b.put("blob", new Blob(["ab"], { type: "q/z" }))),
          await p(() => b.put("empty", null)),
          await p(() => b.put("headers", "x", { httpMetadata: new Headers({ "content-type": "a/b", "content-language": "en", "x-other": "no" }) })),
          await p(() => b.put("json", JSON.stringify({ a: [1, 2] }))),
          await p(() => b.put("sha1", "x", { sha1: "11f6ad8ec52a2984abaafd7c3b516503785c2072" })),
          await p(() => b.put("md5", "x", { md5: "9dd4e461268c8034f5c8564e155c67a6" })),
          await p(() => b.put("", "empty key")),
        ]);
      case "/get": {
        const whole = await b.get("text");
        const usedBefore = whole.bodyUsed;
        const text = await whole.text();
        const again = await attempt(() => whole.text());
        const blob = await (await b.get("text")).blob();
        const bytes = new Uint8Array(await (await b.get("bytes")).arrayBuffer());
        const range = async (r) => attempt(async () => {
          const o = await b.get("text", { range: r });
          return { ...plain(o), text: await o.text() };
        });
        return Response.json({
          whole: plain(whole),
          usedBefore,
          usedAfter: whole.bodyUsed,
          text,
          again,
          blob: [blob.type, blob.size],
          bytes: [...bytes],
          json: await (await b.get("json")).json(),
          head: plain(await b.head("text")),
          missing: await b.get("nope"),
          missingHead: await b.head("nope"),
          ranges: {
            offsetLength: await range({ offset: 2, length: 3 }),
            offset: await range({ offset: 6 }),
            length: await range({ length: 4 }),
            suffix: await range({ suffix: 5 }),
            bigSuffix: await range({ suffix: 100 }),
            longLength: await range({ offset: 2, length: 100 }),
            header: await range(new Headers({ range: "bytes=1-3" })),
            headerSuffix: await range(new Headers({ range: "bytes=-3" })),
            headerOpen: await range(new Headers({ range: "bytes=4-" })),
            headerMulti: await range(new Headers({ range: "bytes=1-2,4-5" })),
            pastEnd: await range({ offset: 20 }),
            zeroLength: await range({ offset: 0, length: 0 }),
            negative: await range({ offset: -1 }),
            suffixAndOffset: await range({ offset: 1, suffix: 2 }),
          },
        });
      }
      case "/conditional": {
        const head = await b.head("text");
        const get = (onlyIf) => p(() => b.get("text", { onlyIf }));
        return Response.json({
          matches: await get({ etagMatches: head.etag }),
          matchFails: await get({ etagMatches: "nope" }),
          noneMatchFails: await get({ etagDoesNotMatch: head.etag }),
          quoted: await get({ etagDoesNotMatch: head.httpEtag }),
          before: await get({ uploadedBefore: new Date(0) }),
          after: await get({ uploadedAfter: new Date(Date.now() + 3600_000) }),
          afterOk: await get({ uploadedAfter: new Date(0) }),
          ifMatch: await get(new Headers({ "if-match": head.httpEtag })),
          ifMatchStar: await get(new Headers({ "if-match": "*" })),
          ifNoneMatch: await get(new Headers({ "if-none-match": head.httpEtag })),
          ifNoneMatchWeak: await get(new Headers({ "if-none-match": `W/${head.httpEtag}` })),
          ifModifiedSince: await get(new Headers({ "if-modified-since": new Date(Date.now() + 3600_000).toUTCString() })),
          ifUnmodifiedSince: await get(new Headers({ "if-unmodified-since": new Date(0).toUTCString() })),
          putFails: await p(() => b.put("text", "replaced?", { onlyIf: { etagMatches: "nope" } })),
          putNoneMatchStar: await p(() => b.put("text", "replaced?", { onlyIf: new Headers({ "if-none-match": "*" }) })),
          stillText: await (await b.get("text")).text(),
          putMatches: await p(() => b.put("cond", "v1").then((o) => b.put("cond", "v2", { onlyIf: { etagMatches: o.etag } }))),
          cond: await (await b.get("cond")).text(),
        });
      }
      case "/list": {
        for (const k of ["l/a", "l/b/1", "l/b/2", "l/c/1", "l/d", "l/e/1"]) await b.put(k, k, { customMetadata: { k }, httpMetadata: { contentType: "q/" + k.length } });
        const page = (o) => attempt(async () => {
          const r = await b.list(o);
          return { keys: r.objects.map((x) => x.key), truncated: r.truncated, cursor: r.cursor ?? null, prefixes: r.delimitedPrefixes, own: Object.keys(r) };
        });
        const first = await page({ prefix: "l/", delimiter: "/", limit: 2 });
        const second = await page({ prefix: "l/", delimiter: "/", limit: 2, cursor: first.ok.cursor });
        const third = await page({ prefix: "l/", delimiter: "/", limit: 2, cursor: second.ok.cursor });
        const all = await b.list();
        const inc = await b.list({ prefix: "l/", include: ["httpMetadata", "customMetadata"], limit: 2 });
        const incHttp = await b.list({ prefix: "l/", include: ["httpMetadata"], limit: 1 });
        return Response.json({
          first,
          second,
          third,
          all: all.objects.map(plain),
          inc: inc.objects.map(plain),
          incHttp: incHttp.objects.map(plain),
          limit: await page({ limit: 3 }),
          startAfter: await page({ prefix: "l/", startAfter: "l/b/1" }),
          prefixOnly: await page({ prefix: "l/b" }),
          badLimit: await page({ limit: 0 }),
          bigLimit: await page({ limit: 1001 }),
          badInclude: await page({ include: ["nope"] }),
        });
      }
      case "/delete": {
        const one = await attempt(() => b.delete("l/a"));
        const many = await attempt(() => b.delete(["l/b/1", "l/b/2", "absent"]));
        const keys = (await b.list({ prefix: "l/" })).objects.map((o) => o.key);
        return Response.json({ one, many, keys, gone: await b.get("l/a"), goneHead: await b.head("l/b/1") });
      }
      case "/stream": {
        // 300,000 bytes through a stream each way: more than a few chunks on either side.
        const size = 300_000;
        const src = new ReadableStream({
          pull(c) {
            if ((this.sent ??= 0) >= size) return c.close();
            const part = new Uint8Array(Math.min(50_000, size - this.sent));
            for (let i = 0; i < part.length; i++) part[i] = (this.sent + i) % 251;
            this.sent += part.length;
            c.enqueue(part);
          },
        });
        const { readable, writable } = new FixedLengthStream(size);
        src.pipeTo(writable);
        const put = plain(await b.put("big", readable));
        const got = await b.get("big");
        let total = 0;
        let wrong = 0;
        for await (const chunk of got.body) {
          for (let i = 0; i < chunk.length; i++) if (chunk[i] !== (total + i) % 251) wrong++;
          total += chunk.length;
        }
        const tail = new Uint8Array(await (await b.get("big", { range: { suffix: 10 } })).arrayBuffer());
        return Response.json({ put, total, wrong, tail: [...tail], digest: [...new Uint8Array(await crypto.subtle.digest("SHA-256", await (await b.get("big")).arrayBuffer()))] });
      }
      case "/serve": {
        const o = await b.get("text");
        const headers = new Headers();
        o.writeHttpMetadata(headers);
        headers.set("etag", o.httpEtag);
        return new Response(o.body, { headers });
      }
      case "/errors":
        return Response.json({
          md5: await p(() => b.put("e", "x", { md5: "00000000000000000000000000000000" })),
          sha1: await p(() => b.put("e", "x", { sha1: "11f6ad8ec52a2984abaafd7c3b516503785c2073" })),
          two: await p(() => b.put("e", "x", { md5: "9dd4e461268c8034f5c8564e155c67a6", sha1: "11f6ad8ec52a2984abaafd7c3b516503785c2072" })),
          shortHex: await p(() => b.put("e", "x", { sha256: "ab" })),
          longKey: await p(() => b.put("k".repeat(1025), "x")),
          longKeyUtf8: await p(() => b.put("é".repeat(512) + "a", "x")),
          maxKey: await attempt(async () => (await b.put("é".repeat(512), "x")) !== null),
          headLongKey: await p(() => b.head("k".repeat(1025))),
          deleteLongKey: await p(() => b.delete("k".repeat(1025))),
          metadata: await p(() => b.put("e", "x", { customMetadata: { ["k".repeat(1024)]: "v".repeat(1025) } })),
          metadataMax: await attempt(async () => (await b.put("e", "x", { customMetadata: { ["k".repeat(1024)]: "v".repeat(1024) } })) !== null),
          number: await p(() => b.put("e", 42)),
          object: await p(() => b.put("e", {})),
          noValue: await p(() => b.put("e")),
          noKey: await p(() => b.get()),
        });
      case "/multipart": {
        const out = {};
        const u = await b.createMultipartUpload("mp", { httpMetadata: { contentType: "a/b" }, customMetadata: { x: "y" } });
        out.upload = { own: Object.keys(u), key: u.key, id: typeof u.uploadId };
        const p1 = await u.uploadPart(1, new Uint8Array(5 * 1024 * 1024).fill(1));
        const p2 = await u.uploadPart(2, new Response("tail").body);
        out.part = { own: Object.keys(p1), partNumber: p1.partNumber, etag: typeof p1.etag };
        out.headDuring = await b.head("mp");
        out.reversed = await p(() => u.complete([p2, p1]));
        const done = await p(() => u.complete([p1, p2]));
        out.done = done;
        out.got = await attempt(async () => {
          const o = await b.get("mp", { range: { suffix: 6 } });
          return [await o.text(), o.size, o.range];
        });
        out.again = await p(() => u.complete([p1, p2]));
        out.partAfter = await p(() => u.uploadPart(3, "x"));
        out.abortAfter = await attempt(() => u.abort());
        const small = await b.createMultipartUpload("small");
        out.small = await p(async () => small.complete([await small.uploadPart(1, "a"), await small.uploadPart(2, "b")]));
        const single = await b.createMultipartUpload("single");
        out.single = await p(async () => single.complete([await single.uploadPart(1, "only")]));
        const bad = await b.createMultipartUpload("bad");
        out.badPart = await p(() => bad.complete([{ partNumber: 1, etag: "nope" }]));
        out.part0 = await p(() => bad.uploadPart(0, "x"));
        out.part10001 = await p(() => bad.uploadPart(10001, "x"));
        out.abort = await attempt(() => bad.abort());
        out.abortTwice = await attempt(() => bad.abort());
        out.partAfterAbort = await p(() => bad.uploadPart(1, "x"));
        const bogus = b.resumeMultipartUpload("bogus", "not-an-id");
        out.resumed = { own: Object.keys(bogus), key: bogus.key, id: bogus.uploadId };
        out.bogusPart = await p(() => bogus.uploadPart(1, "x"));
        out.bogusAbort = await attempt(() => bogus.abort());
        const re = await b.createMultipartUpload("re");
        const first = await re.uploadPart(1, "a");
        const second = await re.uploadPart(1, "b");
        out.stale = await p(() => re.complete([first]));
        out.replaced = await attempt(async () => { await re.complete([second]); return (await b.get("re")).text(); });
        const later = await b.createMultipartUpload("later");
        out.resumeReal = await attempt(async () => {
          const r = b.resumeMultipartUpload("later", later.uploadId);
          return (await r.complete([await r.uploadPart(1, "resumed")])).size;
        });
        out.wrongKey = await p(async () => b.resumeMultipartUpload("other", (await b.createMultipartUpload("k9")).uploadId).uploadPart(1, "x"));
        out.emptyPart = await p(async () => { const e = await b.createMultipartUpload("emptypart"); return e.complete([await e.uploadPart(1, "")]); });
        out.noParts = await p(async () => (await b.createMultipartUpload("noparts")).complete([]));
        out.dupParts = await p(async () => { const d = await b.createMultipartUpload("dup"); const x = await d.uploadPart(1, "x"); return d.complete([x, x]); });
        out.keys = (await b.list({ prefix: "" })).objects.map((o) => o.key).filter((k) => !k.startsWith("l/") && k.length < 40);
        return Response.json(out);
      }
      default:
        return new Response("not found", { status: 404 });
    }
  },
};
