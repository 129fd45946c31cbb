// Exercises: Blob: construction from strings, typed arrays and other blobs; size
// and type (lowercased); text(), arrayBuffer(), bytes-level slice() with negative
// indexes and a content type; stream(); File name/lastModified/type; a Blob as a
// response body (Content-Type taken from the blob's type).
export const requests = [
  { name: "blob facts", path: "/" },
  { name: "blob body", path: "/body" },
];

export default {
  async fetch(request) {
    const blob = new Blob(["h\u00e9llo ", new Uint8Array([119, 111]), new Blob(["rld"])], { type: "Text/Plain;Charset=UTF-8" });
    if (new URL(request.url).pathname === "/body") return new Response(blob.slice(0, 6, "text/x-sliced"));
    const sliced = blob.slice(-3);
    const file = new File(["abc"], "notes.txt", { type: "text/plain", lastModified: 1700000000000 });
    const chunks = [];
    const reader = blob.stream().getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(...r.value);
    return Response.json({
      size: blob.size,
      type: blob.type,
      text: await blob.text(),
      bytes: [...new Uint8Array(await blob.arrayBuffer())],
      sliced: [await sliced.text(), sliced.type, sliced.size],
      middle: await blob.slice(1, 3).text(),
      streamed: chunks.length,
      file: [file.name, file.size, file.type, file.lastModified, file instanceof Blob],
      empty: [new Blob().size, new Blob().type],
      invalidType: new Blob(["x"], { type: "bad\u00e9type" }).type,
    });
  },
};
