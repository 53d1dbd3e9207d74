#!/usr/bin/env python3
"""Scrape-load benchmark: Argus scraping N targets at an interval, CPU% of the server.

    scripts/bench-scrape-targets.py --argus target/release/argus [--targets 1000]
        [--interval 15s] [--seconds 120] [--body crates/scrape/testdata/fixtures/node_exporter.prom]

One threaded HTTP server (this script) serves the same recorded node_exporter body on
every path; a file_sd file lists N targets (`127.0.0.1:PORT` with `__param_t` = i, so each
is its own target, as Prometheus distinguishes targets by URL parameters). Argus scrapes
them into a throw-away data directory. After a warm-up of one interval, the server's CPU
time (utime+stime from /proc) is sampled over --seconds and reported as % of one core,
with samples/s appended (from argus' own scrape_samples_scraped) and peak RSS.
"""
import argparse
import http.server
import json
import os
import shutil
import signal
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(parts[11]) + int(parts[12])) / tick


def vm_hwm_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def query(url, expr):
    q = urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(f"{url}/api/v1/query?{q}", timeout=30) as r:
        res = json.load(r)["data"]["result"]
    return float(res[0]["value"][1]) if res else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--argus", required=True)
    ap.add_argument("--targets", type=int, default=1000)
    ap.add_argument("--interval", default="15s")
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--body", default="crates/scrape/testdata/fixtures/node_exporter.prom")
    a = ap.parse_args()
    body = open(a.body, "rb").read()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        request_queue_size = 1024

    tport = free_port()
    srv = Server(("127.0.0.1", tport), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()

    work = tempfile.mkdtemp(prefix="argus-scrape-bench-")
    sd = os.path.join(work, "targets.json")
    with open(sd, "w") as f:
        json.dump([{"targets": [f"127.0.0.1:{tport}"], "labels": {"__param_t": str(i), "shard": str(i)}}
                   for i in range(a.targets)], f)
    cfg = os.path.join(work, "argus.yml")
    with open(cfg, "w") as f:
        f.write(f"global:\n  scrape_interval: {a.interval}\nscrape_configs:\n"
                f"  - job_name: load\n    file_sd_configs:\n      - files: ['{sd}']\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(os.path.join(work, "argus.log"), "w")
    p = subprocess.Popen([a.argus, f"--config.file={cfg}", f"--storage.tsdb.path={work}/data",
                          f"--web.listen-address=127.0.0.1:{port}", "--adapter.listen-address="],
                         stdout=log, stderr=log)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{url}/-/ready", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        interval_s = float(a.interval.rstrip("s"))
        time.sleep(interval_s + 2)
        up = query(url, 'count(up{job="load"} == 1)')
        c0, t0 = cpu_seconds(p.pid), time.time()
        s0 = query(url, 'sum(scrape_samples_scraped{job="load"})')
        time.sleep(a.seconds)
        c1, t1 = cpu_seconds(p.pid), time.time()
        up = query(url, 'count(up{job="load"} == 1)')
        samples_per_scrape = query(url, 'sum(scrape_samples_scraped{job="load"})')
        cpu = (c1 - c0) / (t1 - t0) * 100
        print(json.dumps({
            "targets": a.targets, "targets_up": up, "interval": a.interval,
            "samples_per_round": samples_per_scrape, "samples_per_s": samples_per_scrape / interval_s,
            "server_cpu_percent_of_one_core": round(cpu, 1),
            "server_cpu_s_per_million_samples": round((c1 - c0) / max(samples_per_scrape / interval_s * (t1 - t0), 1) * 1e6, 3),
            "peak_rss_mib": round(vm_hwm_mib(p.pid), 1),
            "loadavg_1m": os.getloadavg()[0],
        }, indent=1))
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
        srv.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
