// Demo: a Lambda@Edge origin-response function: security headers on every page, a longer cache life for /static/.
export const handler = (event, context, callback) => {
  const { request, response } = event.Records[0].cf;
  const h = response.headers;
  h["strict-transport-security"] = [{ key: "Strict-Transport-Security", value: "max-age=63072000" }];
  h["x-content-type-options"] = [{ key: "X-Content-Type-Options", value: "nosniff" }];
  h["x-rewritten-by"] = [{ key: "X-Rewritten-By", value: "verge origin-response" }];
  if (request.uri.startsWith("/static/")) h["cache-control"] = [{ key: "Cache-Control", value: "public, max-age=3600" }];
  callback(null, response);
};
