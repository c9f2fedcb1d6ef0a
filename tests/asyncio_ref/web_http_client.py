"""python3's http.client against tulip-web: one keep-alive connection, four requests.

Usage: python3 web_http_client.py HOST PORT. Prints one line per response:
status, reason, HTTP version, body (and for HEAD the Content-Length instead).
"""
import http.client
import sys

host, port = sys.argv[1], int(sys.argv[2])
conn = http.client.HTTPConnection(host, port, timeout=10)


def show(resp, body):
    version = {10: "1.0", 11: "1.1"}[resp.version]
    print(resp.status, resp.reason, version, body)


conn.request("GET", "/hello/python")
r = conn.getresponse()
show(r, r.read().decode())

conn.request("POST", "/echo", body=b"from python")
r = conn.getresponse()
show(r, r.read().decode())

conn.request("POST", "/echo", body=iter([b"chunked ", b"from ", b"python"]), encode_chunked=True)
r = conn.getresponse()
show(r, r.read().decode())

conn.request("HEAD", "/hello/python")
r = conn.getresponse()
show(r, "length=" + r.getheader("Content-Length") + " body=" + repr(r.read()))
conn.close()
