#!/usr/bin/env python3
"""taxii_replay.py - a small TAXII 2.1 server for tide's tests (Python 3 standard library only).

It serves the recorded data of the OASIS reference server, medallion
(../shared/data/taxii21/medallion/default_data.json), the way medallion serves it:

  GET /taxii2/                                   discovery (its URLs rewritten to this server)
  GET /<api-root>/                               API root information
  GET /<api-root>/collections/[<id>/]            collections, one collection
  GET /<api-root>/collections/<id>/objects/      an envelope: added_after (on the manifest's
        date_added), match[id], match[type], match[version] (last by default, first, all,
        timestamps), match[spec_version], limit (capped at the page size, silently), next
        (tokens kept 30 s), more; X-TAXII-Date-Added-First / -Last of the page
  GET /<api-root>/collections/<id>/manifest/     the manifest entries, paginated alike

with Content-Type application/taxii+json;version=2.1, 406 (a TAXII error) to an Accept that is
not application/taxii+json;version=2.1 (also one without a version), 401 with an HTML body to
missing or bad HTTP Basic credentials (--user/--password) or Bearer key (--key), and TAXII
errors (404) for what does not exist.

Plain feeds for tide's HTTP feeds: GET /files/<path> serves a file of --files with an ETag and
Last-Modified, answering 304 to a matching If-None-Match / If-Modified-Since; GET
/misp/manifest.json and /misp/<uuid>.json serve a MISP feed of the events given with
--misp-event (the manifest is made from the events).

Requests may come through it as a proxy (an absolute URL in the request line).

Misbehaviour, from the JSON file --control (read at every request, so a test can change it
between pulls; absent: none):
  {"hide_after": T}          manifest entries added after T do not exist yet
  {"forever": "new"}         every objects page says more with a new next token (pages forever)
  {"forever": "same"}        ... with the same next token every time
  {"forever": "nonext"}      ... more: true without next
  {"content_type": CT}       every TAXII response has this Content-Type
  {"fail_first": N, "retry_after": S}
                             the first N requests after the file changed get 500 (with
                             Retry-After: S when given), then the normal answer
  {"slow": S}                every answer waits S seconds first
  {"truncate": true}         objects envelopes are cut in the middle (bad JSON)

Options: --data FILE (default_data.json), --port-file FILE (the port is written there once
listening on 127.0.0.1, an ephemeral port), --log FILE (one JSON line per request: method,
path, query, accept, authorization scheme, if-none-match, status), --tls CERT KEY (HTTPS),
--page-size N (medallion's page size, default 100).
"""
import argparse
import base64
import datetime
import email.utils
import hashlib
import http.server
import json
import os
import re
import ssl
import sys
import threading
import time
import urllib.parse
import uuid

TAXII = "application/taxii+json;version=2.1"
HTML_401 = (
    "<!doctype html>\n<html lang=en>\n<title>401 Unauthorized</title>\n<h1>Unauthorized</h1>\n"
    "<p>The server could not verify that you are authorized to access the URL requested. You "
    "either supplied the wrong credentials (e.g. a bad password), or your browser doesn&#39;t "
    "understand how to supply the credentials required.</p>\n"
)


def ts(s):
    """RFC 3339 text -> comparable (microsecond) datetime"""
    s = s.rstrip("Z")
    if "." in s:
        head, frac = s.split(".", 1)
        frac = (frac + "000000")[:6]
    else:
        head, frac = s, "000000"
    return datetime.datetime.strptime(head + "." + frac, "%Y-%m-%dT%H:%M:%S.%f")


class State:
    def __init__(self, args):
        self.args = args
        with open(args.data) as f:
            self.data = json.load(f)
        self.tokens = {}  # next token -> (expires, remaining items, limit, kind)
        self.lock = threading.Lock()
        self.control_seen = None
        self.failed = 0
        self.events = []
        for p in args.misp_event or []:
            with open(p, "rb") as f:
                raw = f.read()
            ev = json.loads(raw)
            e = ev.get("Event", ev)
            self.events.append((e["uuid"].lower(), raw, e))

    def control(self):
        p = self.args.control
        if not p or not os.path.exists(p):
            ctl, key = {}, None
        else:
            with open(p) as f:
                text = f.read()
            ctl = json.loads(text) if text.strip() else {}
            key = text
        with self.lock:
            if key != self.control_seen:
                self.control_seen = key
                self.failed = 0
        return ctl


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "taxii-replay/1.0"

    def log_message(self, fmt, *a):  # quiet
        pass

    # ------------------------------------------------------------------ plumbing
    def send(self, status, body, ctype, headers=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.logged(status)

    def logged(self, status):
        log = self.server.state.args.log
        if not log:
            return
        auth = self.headers.get("Authorization", "")
        rec = {
            "method": self.command,
            "path": self.url.path,
            "query": self.url.query,
            "accept": self.headers.get("Accept"),
            "auth": auth.split(" ", 1)[0] if auth else None,
            "if_none_match": self.headers.get("If-None-Match"),
            "if_modified_since": self.headers.get("If-Modified-Since"),
            "host": self.headers.get("Host"),
            "proxied": self.path.startswith("http"),
            "status": status,
        }
        with self.server.state.lock:
            with open(log, "a") as f:
                f.write(json.dumps(rec) + "\n")

    def taxii(self, status, obj, headers=None):
        ctype = self.ctl.get("content_type", TAXII)
        self.send(status, json.dumps(obj, indent=1), ctype, headers)

    def error(self, status, title, desc):
        self.taxii(status, {"title": title, "description": desc, "http_status": str(status)})

    def base(self):
        scheme = "https" if self.server.state.args.tls else "http"
        return "%s://%s" % (scheme, self.headers.get("Host", "127.0.0.1"))

    def authorised(self):
        a = self.server.state.args
        if not a.user and not a.key:
            return True
        got = self.headers.get("Authorization", "")
        if a.user and got.startswith("Basic "):
            try:
                u, _, p = base64.b64decode(got[6:]).decode().partition(":")
            except Exception:
                return False
            return u == a.user and p == a.password
        if a.key and got.startswith("Bearer "):
            return got[7:] == a.key
        return False

    def accept_ok(self):
        # medallion: validate_version_parameter_in_accept_header
        for item in self.headers.get("Accept", "").replace(" ", "").split(","):
            m = re.match(r"^application/taxii\+json(;version=(\d\.\d))?$", item)
            if m:
                return m.group(2) == "2.1"
        return False

    # ------------------------------------------------------------------ requests
    def do_GET(self):
        st = self.server.state
        self.url = urllib.parse.urlsplit(self.path)  # absolute when proxied
        self.q = urllib.parse.parse_qs(self.url.query, keep_blank_values=True)
        self.ctl = st.control()
        if self.ctl.get("slow"):
            time.sleep(float(self.ctl["slow"]))
        path = self.url.path
        if path.startswith("/files/"):
            return self.plain(path[len("/files/"):])
        if path.startswith("/misp/"):
            return self.misp(path[len("/misp/"):])
        if not self.authorised():
            return self.send(401, HTML_401, "text/html; charset=utf-8",
                             {"WWW-Authenticate": 'Basic realm="Authentication Required"'})
        if not self.accept_ok():
            return self.error(406, "ProcessingError",
                              "Media type in the Accept header is invalid or not found")
        with st.lock:
            n = int(self.ctl.get("fail_first", 0))
            fail = st.failed < n
            if fail:
                st.failed += 1
        if fail:
            h = {}
            if "retry_after" in self.ctl:
                h["Retry-After"] = str(self.ctl["retry_after"])
            return self.taxii(500, {"title": "Internal Server Error",
                                    "description": "asked to fail", "http_status": "500"}, h)
        parts = [p for p in path.split("/") if p]
        data = st.data
        if parts == ["taxii2"]:
            d = json.loads(json.dumps(data["/discovery"]).replace("http://localhost:5000", self.base()))
            return self.taxii(200, d)
        if not parts or parts[0] not in data or parts[0] == "/discovery":
            return self.error(404, "ProcessingError", "API root not found")
        root = data[parts[0]]
        if len(parts) == 1:
            return self.taxii(200, root["information"])
        if parts[1] == "status" and len(parts) == 3:
            for s in root.get("status", []):
                if s["id"] == parts[2]:
                    return self.taxii(200, s)
            return self.error(404, "ProcessingError", "status not found")
        if parts[1] != "collections":
            return self.error(404, "ProcessingError", "not found")
        cols = root.get("collections", [])
        strip = lambda c: {k: v for k, v in c.items() if k not in ("objects", "manifest")}
        if len(parts) == 2:
            return self.taxii(200, {"collections": [strip(c) for c in cols]} if cols else {})
        col = next((c for c in cols if c["id"] == parts[2]), None)
        if col is None:
            return self.error(404, "ProcessingError", "collection not found")
        if len(parts) == 3:
            return self.taxii(200, strip(col))
        if not col.get("can_read"):
            return self.error(403, "ProcessingError", "collection cannot be read")
        if len(parts) == 4 and parts[3] in ("objects", "manifest"):
            return self.objects(col, parts[3])
        return self.error(404, "ProcessingError", "not found")

    do_HEAD = do_GET

    # ------------------------------------------------------------------ objects, manifest
    def selected(self, col):
        """(date_added, manifest entry, object) of every version the filters keep"""
        man = col.get("manifest", [])
        hide = self.ctl.get("hide_after")
        rows = []
        used = set()
        for obj in col.get("objects", []):
            ver = obj.get("modified", obj.get("created"))
            for i, m in enumerate(man):
                if i not in used and m["id"] == obj["id"] and m["version"] == ver:
                    used.add(i)
                    rows.append((m["date_added"], m, obj))
                    break
        if hide:
            rows = [r for r in rows if ts(r[0]) <= ts(hide)]
        q = self.q
        if "match[id]" in q:
            ids = set(",".join(q["match[id]"]).split(","))
            rows = [r for r in rows if r[2]["id"] in ids]
        if "match[type]" in q:
            types = set(",".join(q["match[type]"]).split(","))
            rows = [r for r in rows if r[2]["type"] in types]
        if "match[spec_version]" in q:
            svs = set(",".join(q["match[spec_version]"]).split(","))
            rows = [r for r in rows if r[2].get("spec_version", "2.0") in svs]
        if "added_after" in q:
            aa = ts(q["added_after"][0])
            rows = [r for r in rows if ts(r[0]) > aa]
        versions = ",".join(q.get("match[version]", ["last"])).split(",")
        if "all" not in versions:
            by_id = {}
            for r in rows:
                by_id.setdefault(r[2]["id"], []).append(r)
            keep = []
            for vs in by_id.values():
                vs.sort(key=lambda r: ts(r[1]["version"]))
                for v in versions:
                    if v == "last":
                        keep.append(vs[-1])
                    elif v == "first":
                        keep.append(vs[0])
                    else:
                        keep.extend(r for r in vs if r[1]["version"] == v)
            rows = list({id(r): r for r in keep}.values())
        rows.sort(key=lambda r: ts(r[0]))
        return rows

    def objects(self, col, what):
        st = self.server.state
        page = st.args.page_size
        forever = self.ctl.get("forever")
        if forever:
            rows = self.selected(col)[:2] or [("2014-05-08T09:00:00.000000Z", {}, {})]
            env = {"more": True, "objects": [r[2] for r in rows if r[2]]}
            if forever == "new":
                env["next"] = uuid.uuid4().hex
            elif forever == "same":
                env["next"] = "the-same-token"
            return self.taxii(200, env, {"X-TAXII-Date-Added-First": rows[0][0],
                                         "X-TAXII-Date-Added-Last": rows[-1][0]})
        now = time.time()
        with st.lock:
            for k in [k for k, v in st.tokens.items() if v[0] < now]:
                del st.tokens[k]
        if "next" in self.q:
            with st.lock:
                tok = st.tokens.pop(self.q["next"][0], None)
            if tok is None:
                return self.error(400, "ProcessingError",
                                  "The server did not understand the request or filter parameters: 'next' not valid")
            rows, limit = tok[1], tok[2]
        else:
            rows = self.selected(col)
            limit = page
            if "limit" in self.q:
                try:
                    limit = int(self.q["limit"][0])
                except ValueError:
                    return self.error(400, "ProcessingError", "limit is not a number")
                if limit <= 0:
                    return self.error(400, "ProcessingError", "limit must be positive")
                limit = min(limit, page)
        out, rest = rows[:limit], rows[limit:]
        if what == "objects":
            env = {"more": bool(rest), "objects": [r[2] for r in out]}
        else:
            env = {"more": bool(rest), "objects": [r[1] for r in out]}
        if rest:
            t = str(uuid.uuid4())
            with st.lock:
                st.tokens[t] = (now + 30, rest, limit)
            env["next"] = t
        if not out:
            return self.taxii(200, {"more": False})
        headers = {"X-TAXII-Date-Added-First": out[0][0], "X-TAXII-Date-Added-Last": out[-1][0]}
        body = json.dumps(env, indent=1)
        if self.ctl.get("truncate"):
            body = body[: len(body) // 2]
        self.send(200, body, self.ctl.get("content_type", TAXII), headers)

    # ------------------------------------------------------------------ plain feeds
    def conditional(self, raw, mtime, ctype):
        etag = '"%s"' % hashlib.sha256(raw).hexdigest()[:32]
        lm = email.utils.formatdate(mtime, usegmt=True)
        h = {"ETag": etag, "Last-Modified": lm}
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        if inm is not None:
            if etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*":
                return self.send(304, b"", ctype, h)
        elif ims is not None:
            try:
                if email.utils.parsedate_to_datetime(ims).timestamp() >= int(mtime):
                    return self.send(304, b"", ctype, h)
            except (TypeError, ValueError):
                pass
        return self.send(200, raw, ctype, h)

    def plain(self, rel):
        root = self.server.state.args.files
        if not root:
            return self.send(404, "no files\n", "text/plain")
        p = os.path.realpath(os.path.join(root, urllib.parse.unquote(rel)))
        if not p.startswith(os.path.realpath(root) + os.sep) or not os.path.isfile(p):
            return self.send(404, "<html><body><h1>404 Not Found</h1></body></html>", "text/html")
        with open(p, "rb") as f:
            raw = f.read()
        ctype = "text/csv" if p.endswith(".csv") else "text/plain; charset=utf-8"
        return self.conditional(raw, os.stat(p).st_mtime, ctype)

    def misp(self, rel):
        st = self.server.state
        if rel == "manifest.json":
            man = {}
            for u, _, e in st.events:
                man[u] = {"info": e.get("info", ""), "timestamp": str(e.get("timestamp", "0")),
                          "date": e.get("date", ""), "analysis": e.get("analysis", 0),
                          "threat_level_id": e.get("threat_level_id", 4),
                          "Orgc": e.get("Orgc", {}), "Tag": e.get("Tag", [])}
            raw = json.dumps(man, indent=1, sort_keys=True).encode()
            mtime = max([int(e.get("timestamp", 0)) for _, _, e in st.events] or [0])
            return self.conditional(raw, mtime, "application/json")
        for u, raw, _ in st.events:
            if rel == u + ".json":
                return self.send(200, raw, "application/json")
        return self.send(404, "<html><body><h1>404 Not Found</h1></body></html>", "text/html")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--control")
    ap.add_argument("--log")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--key")
    ap.add_argument("--files")
    ap.add_argument("--misp-event", action="append")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--page-size", type=int, default=100)
    args = ap.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.state = State(args)
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls[0], args.tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
