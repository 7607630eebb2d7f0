"""`stagewise dashboard`: the status view as a page on 127.0.0.1, with charts that update without reloading.

One sampler thread takes the status document (stagewise.tools.status.snapshot, the same code as
`status --watch`) every interval and keeps its series: each colour's traffic (file and applied), each
version's requests per look, error rate and p95, and the gate's e-values against their thresholds. The
rollout's timeline of stage commits comes from the stack file's git history (as `history` reads it).

What is served is read-only and only what a read-only user may see: GET of `/` (the page: inline script
and SVG, no external resource; a Content-Security-Policy with a nonce allows nothing else) and
`/api/status` (JSON). No secret is in either: the status document holds none (a metrics URL with
credentials is refused by the config). Requests whose Host is not this address are refused, so a page
on another site cannot read it through DNS rebinding. Every text from outside (commit subjects, versions,
the gate's reasons) reaches the page as JSON and is set with textContent, never as markup.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Annotated, Any

import typer

from stagewise.core.gate_config import format_duration
from stagewise.formats import facts
from stagewise.tools import git
from stagewise.tools import history as history_lib
from stagewise.tools import status as status_lib
from stagewise.tools.app import StackOption, app
from stagewise.tools.render import printable
from stagewise.tools.session import CliError, Loaded, interval_option, load, out, reported

SERIES_POINTS = 360
TIMELINE_STEPS = 50


def timeline(loaded: Loaded) -> list[dict[str, Any]]:
    """The stack file's release changes, newest last (at most TIMELINE_STEPS)."""
    try:
        commits = git.log(loaded.root, loaded.source)
        texts = git.contents(loaded.root, commits, loaded.source)
    except git.GitError:
        return []
    steps = history_lib.steps(zip(commits, texts), loaded.catalog)[-TIMELINE_STEPS:]
    return [
        {
            "at": s.meta.committed or s.meta.date,
            "action": s.action,
            "stage": s.after.stage if s.after else None,
            "weight": s.after.share if s.after else None,
            "sha": s.meta.sha[:8],
            "author": printable(s.meta.author),
            "subject": printable(s.meta.subject),
        }
        for s in steps
    ]


def point(doc: dict[str, Any]) -> dict[str, Any]:
    """One sample of the series from a status document."""
    gate = doc.get("gate") or {}
    analysis = gate.get("analysis")
    recent = doc.get("recent") or []
    last = recent[-1] if recent else None
    applied = (doc.get("applied") or {}).get("traffic")
    sample: dict[str, Any] = {
        "at": doc["at"],
        "stage": doc["stage"]["name"],
        "traffic": {c: v["traffic"] for c, v in doc["colours"].items()},
        "applied": applied,
        "verdict": analysis["verdict"] if analysis else None,
        "versions": {},
        "checks": [],
    }
    if analysis is not None:
        for role, v in analysis["versions"].items():
            sample["versions"][role] = {
                "version": v["version"],
                "requests": v["requests"],
                "perLook": last[role]["requests"] if last else None,
                "errorRate": v["errorRate"],
                "p95Ms": v["p95Ms"],
            }
        sample["checks"] = [
            {"name": c["name"], "eValue": c["eValue"], "threshold": c["threshold"], "status": c["status"]}
            for c in analysis["checks"]
        ]
    return sample


class Sampler:
    """Takes the status document every `interval` seconds in a thread of its own; keeps the series."""

    def __init__(self, load: Callable[[], Loaded], interval: float, **sources: Any):
        self._load, self._interval, self._sources = load, interval, sources
        self._providers: dict[str, Any] = {}
        self._tracker = status_lib.Tracker()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.latest: dict[str, Any] | None = None
        self.series: list[dict[str, Any]] = []
        self.steps: list[dict[str, Any]] = []
        self.error: str | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        try:
            loaded = self._load()
            doc = status_lib.snapshot(
                loaded, live=True, providers=self._providers, tracker=self._tracker, **self._sources
            )
            steps = timeline(loaded)
        except CliError as error:
            with self._lock:
                self.error = f"cannot read the stack: {error}"
            return
        except Exception as error:  # the page says what went wrong; the sampler keeps going
            with self._lock:
                self.error = f"{type(error).__name__}: {error}"
            return
        with self._lock:
            self.latest, self.steps, self.error = doc, steps, None
            self.series.append(point(doc))
            del self.series[:-SERIES_POINTS]

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self._interval)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()

    def view(self) -> dict[str, Any]:
        with self._lock:
            return {
                "schema": "stagewise.dashboard/v1",
                "at": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
                "interval": self._interval,
                "status": self.latest,
                "series": list(self.series),
                "timeline": list(self.steps),
                "error": self.error,
            }


def make_server(sampler: Sampler, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """The page's server on host:port (0: any free port); OSError when the address is taken."""
    nonce = secrets.token_urlsafe(16)

    class Handler(BaseHTTPRequestHandler):
        server_version = "stagewise-dashboard"
        sys_version = ""

        def _allowed_host(self) -> bool:
            address = self.server.server_address
            bound = address[1] if isinstance(address, tuple) else None
            return self.headers.get("Host", "") in (f"127.0.0.1:{bound}", f"localhost:{bound}")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("X-Frame-Options", "DENY")
            self.send_header(
                "Content-Security-Policy",
                f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
                f"connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
                f"frame-ancestors 'none'",
            )
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if not self._allowed_host():
                self._send(421, b"wrong host\n", "text/plain; charset=utf-8")
            elif self.path == "/":
                self._send(200, PAGE.replace("{{nonce}}", nonce).encode(), "text/html; charset=utf-8")
            elif self.path == "/api/status":
                self._send(200, json.dumps(sampler.view()).encode(), "application/json")
            else:
                self._send(404, b"not found\n", "text/plain; charset=utf-8")

        def do_POST(self) -> None:  # noqa: N802
            self._send(405, b"read-only\n", "text/plain; charset=utf-8")

        do_PUT = do_DELETE = do_PATCH = do_POST  # noqa: N815

        def log_message(self, *args: Any) -> None:
            pass

    return ThreadingHTTPServer((host, port), Handler)


PAGE = r"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>stagewise dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style nonce="{{nonce}}">
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.3em;margin:0 0 .3em} h2{font-size:1em;margin:1.2em 0 .4em}
.row{display:flex;flex-wrap:wrap;gap:1.5em} .card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.8em 1em}
.big{font-size:1.6em;font-weight:600} .muted{color:#777} .err{color:#b00020;font-weight:600}
.promote{color:#1a7f37} .hold{color:#9a6700} .abort{color:#b00020}
table{border-collapse:collapse} td,th{padding:.2em .6em;text-align:right;border-bottom:1px solid #eee} td:first-child,th:first-child{text-align:left}
svg{background:#fff;border:1px solid #ddd;border-radius:6px}
.legend span{margin-right:1em} .blue{color:#1f6feb} .green{color:#1a7f37}
</style></head><body>
<h1>stagewise: <span id="stack">…</span> <span class="muted" id="environment"></span></h1>
<div id="error" class="err"></div>
<div class="row">
 <div class="card"><div class="muted">stage</div><div class="big" id="stage">…</div><div id="stages" class="muted"></div></div>
 <div class="card"><div class="muted">candidate requests</div><div class="big" id="candidate-requests">-</div><div class="muted" id="candidate-version"></div></div>
 <div class="card"><div class="muted">verdict</div><div class="big" id="verdict">-</div><div id="reason" class="muted"></div></div>
 <div class="card"><div class="muted">in stage</div><div class="big" id="in-stage">-</div><div class="muted" id="window"></div></div>
</div>
<h2>Traffic per colour (stack file; applied by the last pulumi up)</h2><div id="traffic"></div><div id="applied" class="muted"></div>
<h2>Versions since the stage began</h2><table id="versions"><thead><tr><th>role</th><th>version</th><th>requests</th><th>last look</th><th>errors</th><th>error rate</th><th>p95</th></tr></thead><tbody></tbody></table>
<div class="row">
 <div><h2>Requests per look</h2><svg id="chart-requests" width="460" height="180"></svg></div>
 <div><h2>Error rate, %</h2><svg id="chart-errors" width="460" height="180"></svg></div>
 <div><h2>p95, ms</h2><svg id="chart-p95" width="460" height="180"></svg></div>
</div>
<div class="legend"><span class="green">&#9632; candidate</span><span class="blue">&#9632; live</span></div>
<h2>The gate's evidence (e-value against the value that aborts)</h2><table id="checks"><thead><tr><th>check</th><th>value</th><th>limit</th><th>e-value</th><th>aborts at</th><th>result</th></tr></thead><tbody></tbody></table>
<h2>Timeline of stage commits</h2><table id="timeline"><thead><tr><th>when</th><th>step</th><th>stage</th><th>commit</th><th>by</th><th>subject</th></tr></thead><tbody></tbody></table>
<p class="muted">Next: <code id="next"></code> · updated <span id="updated">never</span></p>
<script nonce="{{nonce}}">
"use strict";
const SVG = "http://www.w3.org/2000/svg";
const COLOURS = {candidate: "#1a7f37", live: "#1f6feb", blue: "#1f6feb", green: "#1a7f37"};
function $(id) { return document.getElementById(id); }
function text(id, value) { $(id).textContent = value === null || value === undefined ? "-" : String(value); }
function num(v, digits) { return v === null || v === undefined ? "-" : Number(v).toFixed(digits); }
function sig(v) { return v === null || v === undefined ? "-" : Number(Number(v).toPrecision(3)).toString(); }
function rows(id, data) {
  const body = $(id).querySelector("tbody");
  body.replaceChildren();
  for (const cells of data) {
    const tr = document.createElement("tr");
    for (const c of cells) { const td = document.createElement("td"); td.textContent = c; tr.appendChild(td); }
    body.appendChild(tr);
  }
}
function el(name, attrs) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}
function chart(id, lines) {
  const svg = $(id); svg.replaceChildren();
  const w = +svg.getAttribute("width"), h = +svg.getAttribute("height"), pad = 30;
  const values = lines.flatMap(l => l.points).filter(v => v !== null && isFinite(v));
  const top = Math.max(1e-9, ...values) * 1.1;
  svg.appendChild(el("line", {x1: pad, y1: h - pad, x2: w - 5, y2: h - pad, stroke: "#999"}));
  const label = el("text", {x: 2, y: 12, "font-size": 10, fill: "#777"}); label.textContent = num(top, 1); svg.appendChild(label);
  for (const line of lines) {
    const n = line.points.length; if (!n) continue;
    let d = "";
    line.points.forEach((v, i) => {
      if (v === null || !isFinite(v)) return;
      const x = pad + (n === 1 ? 0 : i * (w - pad - 10) / (n - 1)), y = h - pad - v / top * (h - 2 * pad);
      d += (d ? " L" : "M") + x.toFixed(1) + " " + y.toFixed(1);
    });
    if (d) svg.appendChild(el("path", {d: d, fill: "none", stroke: line.colour, "stroke-width": 2}));
    line.points.forEach((v, i) => {  // each look as a dot: a single look draws no line
      if (v === null || !isFinite(v)) return;
      const x = pad + (n === 1 ? 0 : i * (w - pad - 10) / (n - 1)), y = h - pad - v / top * (h - 2 * pad);
      svg.appendChild(el("circle", {cx: x.toFixed(1), cy: y.toFixed(1), r: 2.5, fill: line.colour}));
    });
  }
}
function bars(status) {
  const box = $("traffic"); box.replaceChildren();
  const svg = el("svg", {width: 460, height: 60}); box.appendChild(svg);
  const applied = status.applied && status.applied.traffic;
  [["stack file", c => status.colours[c].traffic], ["applied", c => applied ? applied[c] : null]].forEach(([name, share], row) => {
    let x = 80; const y = 6 + row * 26;
    const t = el("text", {x: 0, y: y + 14, "font-size": 11}); t.textContent = name; svg.appendChild(t);
    for (const colour of ["blue", "green"]) {
      const v = share(colour); if (v === null) continue;
      const width = v * 3.6;
      svg.appendChild(el("rect", {x: x, y: y, width: width, height: 20, fill: COLOURS[colour]}));
      const l = el("text", {x: x + 4, y: y + 14, "font-size": 11, fill: "#fff"}); l.textContent = colour + " " + v + " %";
      if (width > 50) svg.appendChild(l);
      x += width;
    }
  });
}
function render(view) {
  text("error", view.error || "");
  const s = view.status; if (!s) return;
  text("stack", s.stack); text("environment", "(" + s.environment + ")");
  text("stage", s.stage.name); text("stages", s.stage.stages.map(x => x.name + " " + x.weight + "%").join(" > "));
  text("next", s.next); text("updated", view.at);
  const secs = s.secondsInStage; text("in-stage", secs === null ? "-" : Math.floor(secs / 60) + " min");
  text("window", s.window ? (s.window.open ? "deploy window open" : "deploy window closed; opens " + s.window.nextOpen) : "");
  bars(s);
  const applied = s.applied || {};
  text("applied", applied.error ? "applied: " + applied.error : applied.differs ? "the last pulumi up applied other weights than the stack file asks for" : "");
  const gate = s.gate || {}; const a = gate.analysis;
  if (a) {
    text("candidate-requests", num(a.versions.candidate.requests, 0));
    text("candidate-version", a.versions.candidate.version);
    text("verdict", a.verdict + (a.holdReason ? " (" + a.holdReason + ")" : ""));
    $("verdict").className = "big " + a.verdict;
    text("reason", a.reason);
    const last = (s.recent || []).slice(-1)[0];
    rows("versions", ["candidate", "live"].map(r => {
      const v = a.versions[r];
      return [r, v.version || "(none)", num(v.requests, 0), last && last[r].requests !== null ? "+" + num(last[r].requests, 0) : "-",
              num(v.errors, 0), v.errorRate === null ? "-" : num(v.errorRate, 2) + " %", v.p95Ms === null ? "-" : num(v.p95Ms, 0) + " ms"];
    }));
    rows("checks", a.checks.map(c => [c.description, sig(c.value), "<= " + c.limit, sig(c.eValue), sig(c.threshold), c.status]));
  } else {
    text("verdict", gate.skipped ? "nothing to judge" : "no analysis");
    text("reason", gate.error || gate.skipped || "");
    text("candidate-requests", null); rows("versions", []); rows("checks", []);
  }
  const series = view.series;
  const line = (role, key) => ({colour: COLOURS[role], points: series.map(p => p.versions[role] ? p.versions[role][key] : null)});
  chart("chart-requests", [line("candidate", "perLook"), line("live", "perLook")]);
  chart("chart-errors", [line("candidate", "errorRate"), line("live", "errorRate")]);
  chart("chart-p95", [line("candidate", "p95Ms"), line("live", "p95Ms")]);
  rows("timeline", view.timeline.slice().reverse().map(t => [t.at, t.action, t.stage + (t.weight === null ? "" : " (" + t.weight + " %)"), t.sha, t.author, t.subject]));
}
async function refresh() {
  try {
    const answer = await fetch("/api/status", {cache: "no-store"});
    if (!answer.ok) throw new Error("HTTP " + answer.status);
    const view = await answer.json();
    render(view);
    setTimeout(refresh, Math.max(1, view.interval) * 1000);
  } catch (e) {
    text("error", "the dashboard server cannot be reached (" + e.message + "); retrying");
    setTimeout(refresh, 5000);
  }
}
refresh();
</script></body></html>
"""


@app.command()
def dashboard(
    stack: StackOption = None,
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1 (0: any free port).")] = facts.DASHBOARD_PORT,
    interval: Annotated[str, typer.Option("--interval", help="Time between samples (e.g. 10s).")] = "10s",
) -> None:
    """Serve the status view as a page with live charts on 127.0.0.1 (read-only), until Ctrl-C."""
    with reported():
        every = interval_option(interval)
        if not 0 <= port <= 65535:
            raise CliError(f"--port {port} is not a port (0..65535; 0 picks a free one)")
        loaded = load(stack)
        sampler = Sampler(lambda: load(stack), every.total_seconds())
        try:
            server = make_server(sampler, port)
        except OSError as error:
            raise CliError(
                f"cannot listen on 127.0.0.1:{port}: {error.strerror or error} (choose another with --port, "
                f"or --port 0 for any free one)"
            ) from None
        sampler.start()
        out.print(
            f"{loaded.stack}: dashboard on http://127.0.0.1:{server.server_address[1]}/ "
            f"(read-only, every {format_duration(every)}; Ctrl-C to stop)"
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            sampler.stop()
            server.server_close()
