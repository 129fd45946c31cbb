// Exercises: a handler that throws (synchronously, after an await, and a non-Error
// value), and an async handler that rejects. What the caller sees is the runtime's
// choice: see DIVERGENCES.md; the test asserts both behaviours explicitly.
export const requests = [
  { name: "sync throw", path: "/sync" },
  { name: "async throw", path: "/async" },
  { name: "throw string", path: "/string" },
  { name: "caught", path: "/caught" },
];

export default {
  fetch(request) {
    const { pathname } = new URL(request.url);
    if (pathname === "/sync") throw new Error("boom sync");
    if (pathname === "/async") return (async () => {
      await null;
      throw new TypeError("boom async");
    })();
    if (pathname === "/string") throw "a plain string";
    try {
      null.x;
    } catch (e) {
      return new Response(`caught ${e.name}`, { status: 500 });
    }
  },
};
