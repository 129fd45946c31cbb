// Exercises: a TransformStream uppercasing the request body on its way back:
// request.body -> TextDecoderStream -> TransformStream(toUpperCase) -> TextEncoderStream,
// plus a transform with flush() appending a trailer and one that drops chunks.
export const requests = [
  { name: "uppercase", method: "POST", path: "/upper", body: "hello streams, \u00e9t\u00e9 \u00df" },
  { name: "flush trailer", method: "POST", path: "/flush", body: "abc" },
  { name: "filter", path: "/filter" },
];

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (pathname === "/upper" || pathname === "/flush") {
      const upper = new TransformStream({
        transform(chunk, controller) {
          controller.enqueue(chunk.toUpperCase());
        },
        flush(controller) {
          if (pathname === "/flush") controller.enqueue("<END>");
        },
      });
      const body = request.body.pipeThrough(new TextDecoderStream()).pipeThrough(upper).pipeThrough(new TextEncoderStream());
      return new Response(body, { headers: { "content-type": "text/plain;charset=UTF-8" } });
    }
    const numbers = new ReadableStream({
      start(c) {
        for (let i = 0; i < 10; i++) c.enqueue(i);
        c.close();
      },
    });
    const evens = new TransformStream({
      transform(n, c) {
        if (n % 2 === 0) c.enqueue(`${n},`);
      },
    });
    return new Response(numbers.pipeThrough(evens).pipeThrough(new TextEncoderStream()));
  },
};
