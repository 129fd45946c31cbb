// Demo: a Lambda@Edge viewer-request function that tags requests before the origin sees them.
export const handler = async (event) => {
  const request = event.Records[0].cf.request;
  if (request.uri === "/blocked") {
    return { status: "403", statusDescription: "Forbidden", body: "blocked at the edge\n" };
  }
  request.headers["x-verge-demo"] = [{ key: "X-Verge-Demo", value: "tagged at viewer-request" }];
  return request;
};
