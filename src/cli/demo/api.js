// Demo: a service-worker style function on /hash: POST text to get its SHA-256.
addEventListener("fetch", (event) => {
  event.respondWith(handle(event.request));
});

async function handle(request) {
  if (request.method !== "POST") return new Response("POST some text to get its SHA-256.\n");
  const data = new Uint8Array(await request.arrayBuffer());
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  const hex = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
  return Response.json({ bytes: data.length, sha256: hex });
}
