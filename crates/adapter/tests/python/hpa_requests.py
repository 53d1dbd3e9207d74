"""Sends the request shapes the HPA controller sends for each metric type through the
official Kubernetes Python client and checks the answers decode.

Usage: hpa_requests.py <https://host:port> <ca.crt> <client.crt> <client.key>
Prints one JSON line per request: {"shape": ..., "kind": ..., "items": [...]}.
"""
import json
import sys

from kubernetes import client


def get(api, path, params=None, query=None):
    """GET through the client's own request and deserialization path (both the
    openapi-generator 7 API of kubernetes>=31 and the older one)."""
    params, query = params or {}, query or []
    if hasattr(api, "param_serialize"):
        method, url, headers, body, post = api.param_serialize(
            "GET", path, path_params=params, query_params=query,
            header_params={"Accept": "application/json"})
        resp = api.call_api(method, url, header_params=headers, body=body, post_params=post)
        resp.read()
        return api.response_deserialize(resp, {"200": "object"}).data
    return api.call_api(path, "GET", path_params=params, query_params=query,
                        header_params={"Accept": "application/json"},
                        response_type="object", _return_http_data_only=True)


def main():
    url, ca, cert, key = sys.argv[1:5]
    cfg = client.Configuration()
    cfg.host = url
    cfg.ssl_ca_cert = ca
    cfg.cert_file = cert
    cfg.key_file = key
    api = client.ApiClient(cfg)

    shapes = [
        # Resource metric (CPU/memory utilization): metrics.k8s.io PodMetrics list.
        ("resource", "/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods",
         {"namespace": "default"}, [("labelSelector", "app=web")]),
        # Pods metric: every pod of the target, by label selector.
        ("pods", "/apis/custom.metrics.k8s.io/v1beta2/namespaces/{namespace}/pods/*/{metric}",
         {"namespace": "default", "metric": "http_requests"},
         [("labelSelector", "app=web"), ("metricLabelSelector", "code=200")]),
        # Object metric: one described object.
        ("object", "/apis/custom.metrics.k8s.io/v1beta2/namespaces/{namespace}/services/{name}/{metric}",
         {"namespace": "default", "name": "web", "metric": "http_requests"}, []),
        # External metric.
        ("external", "/apis/external.metrics.k8s.io/v1beta1/namespaces/{namespace}/{metric}",
         {"namespace": "default", "metric": "queue_depth"}, [("labelSelector", "queue=jobs")]),
        # Node metrics (kubectl top node).
        ("nodes", "/apis/metrics.k8s.io/v1beta1/nodes", {}, []),
    ]
    for shape, path, params, query in shapes:
        data = get(api, path, params, query)
        items = []
        for it in data["items"]:
            if "describedObject" in it:
                items.append([it["describedObject"]["name"], it["value"]])
            elif "metricLabels" in it:
                items.append([it["metricName"], it["value"]])
            elif "containers" in it:
                items.append([it["metadata"]["name"],
                              [[c["name"], c["usage"]["cpu"], c["usage"]["memory"]] for c in it["containers"]]])
            else:
                items.append([it["metadata"]["name"], it["usage"]["cpu"], it["usage"]["memory"]])
        print(json.dumps({"shape": shape, "kind": data["kind"], "items": items}))

    # Errors decode as Status objects through the client's exception.
    try:
        get(api, "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/nope")
    except client.ApiException as e:
        body = json.loads(e.body)
        print(json.dumps({"shape": "error", "kind": body["kind"], "items": [e.status, body["reason"]]}))


if __name__ == "__main__":
    main()
