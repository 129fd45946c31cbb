// Exercises: env vars (Miniflare "bindings"): string and JSON values (object,
// array, number, boolean), an empty string, a missing key, key enumeration.
export const bindings = { GREETING: "hello", API_URL: "https://api.example.com", CONFIG: { retries: 3, tags: ["a", "b"], nested: { on: true } }, EMPTY: "", LIST: [1, "two"], COUNT: 42, ON: false };
export const requests = [
  { name: "read", path: "/" },
  { name: "read again", path: "/again" },
];

export default {
  async fetch(request, env) {
    return Response.json({
      keys: Object.keys(env).sort(),
      greeting: env.GREETING,
      apiUrl: env.API_URL,
      config: env.CONFIG,
      typeofConfig: typeof env.CONFIG,
      empty: env.EMPTY,
      list: env.LIST,
      count: [env.COUNT, typeof env.COUNT],
      on: [env.ON, typeof env.ON],
      missing: env.MISSING === undefined,
    });
  },
};
