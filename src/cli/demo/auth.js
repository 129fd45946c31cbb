// Demo: a Lambda@Edge viewer-request function: a redirect, a token check and a tag for the origin.
export const handler = async (event) => {
  const request = event.Records[0].cf.request;
  if (request.uri.startsWith("/old/")) {
    const location = "/new/" + request.uri.slice("/old/".length);
    return { status: "301", statusDescription: "Moved Permanently", headers: { location: [{ key: "Location", value: location }] } };
  }
  if (request.uri.startsWith("/private/")) {
    const auth = request.headers.authorization?.[0]?.value ?? "";
    if (auth !== "Bearer demo") {
      return {
        status: "401",
        statusDescription: "Unauthorized",
        headers: { "www-authenticate": [{ key: "WWW-Authenticate", value: 'Bearer realm="verge demo"' }], "content-type": [{ key: "Content-Type", value: "text/plain" }] },
        body: "send Authorization: Bearer demo\n",
      };
    }
  }
  request.headers["x-verge-demo"] = [{ key: "X-Verge-Demo", value: "tagged at viewer-request" }];
  return request;
};
