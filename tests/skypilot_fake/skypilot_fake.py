#!/usr/bin/env python3
"""A wire-level fake of SkyPilot's API server, for SkyDeck's tests.

It speaks the REST protocol SkyDeck's `skypilot` backend uses (see
docs in README.md beside this file and ../../docs/skypilot.md):

  * every operation is `POST <route>` answered 200, body `null`, header
    `X-Skypilot-Request-ID`;
  * `GET /api/get?request_id=ID` blocks until the request is terminal and
    answers 200 with a record whose `return_value` is a JSON *string*, or
    500 with `{"detail": {..., "error": "<json of type/message>"}}`, or 404;
  * `GET /api/status`, `GET /api/health`, `GET /api/stream`, `POST /api/cancel`;
  * `/jobs/launch`, `/jobs/queue` (v1), `/jobs/queue/v2` (API >= 18),
    `/jobs/cancel`, `/jobs/logs` (chunked text with <sky-payload> lines);
  * `POST /upload` (chunked zips of local files) and the tasks'
    `file_mounts_mapping` (fake_uploads.py).

Managed jobs follow per-name scripts of statuses. They advance one step per
queue call (default) or per explicit tick, never by wall-clock time, so tests
are deterministic. Faults (server down, slow answers, 500s, malformed JSON,
unknown fields) are switched on and off from tests.

Control surface, on the main port and on a separate control port that stays
up while the main port is "down":

  POST /_fake/script   {"name_prefix", "steps", "failure_reason", "logs",
                        "launch_error": {"type", "message"}, "launch_hold"}
  POST /_fake/fault    {"slow_ms", "slow_routes", "http500", "http500_routes",
                        "malformed", "malformed_routes", "malformed_count",
                        "extra_fields", "queue_error"}   ({"clear": true} resets)
  POST /_fake/config   {"api_version", "advance_on_queue", "launch_hold",
                        "launch_delay_ms", "controller_stopped",
                        "launch_cancel_leaves_job", "queue_delay_ms",
                        "queue_delay_count", "heartbeat_s", "version"}
  POST /_fake/tick     {"n": 1}
  POST /_fake/release_launches {"count": null}
  POST /_fake/job      {"job_id", "status"}    (force a status, e.g. preemption)
  POST /_fake/down, POST /_fake/up, POST /_fake/reset
  POST /_fake/restart  {"queue_delay_ms", "queue_delay_count"} (what a
                        server restart does: forgets finished requests and
                        every uploaded file; managed jobs stay)
  GET  /_fake/state    counters, jobs, requests, launches
  GET  /_fake/uploads  uploads received, extracted entries, translated tasks

Run: python3 skypilot_fake.py --port-file F [--control-port-file G]
       [--token T] [--api-version 31] [--tick-mode queue|explicit]
The port file holds the main port (written atomically once listening).

Only the Python 3 standard library is used, except for reading tasks that
name uploaded files (PyYAML, as SkyPilot itself; see fake_uploads.py).
"""

import argparse
import base64
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from fake_uploads import LaunchError, UploadArea, UploadError

MIN_COMPATIBLE_API_VERSION = 11
V2_QUEUE_API_VERSION = 18

LIVE_STATUSES = {'PENDING', 'SUBMITTED', 'STARTING', 'RUNNING', 'RECOVERING',
                 'CANCELLING'}
TERMINAL_STATUSES = {'SUCCEEDED', 'CANCELLED', 'FAILED', 'FAILED_SETUP',
                     'FAILED_PRECHECKS', 'FAILED_NO_RESOURCE',
                     'FAILED_CONTROLLER'}
REQUEST_ACTIVE = {'PENDING', 'RUNNING'}
DEFAULT_STEPS = ['PENDING', 'STARTING', 'RUNNING', 'SUCCEEDED']

# Every key a v2 queue record carries; unrequested ones are null.
RECORD_KEYS = [
    '_job_id', 'job_id', 'task_id', 'job_name', 'task_name', 'job_duration',
    'workspace', 'status', 'schedule_state', 'resources', 'cluster_resources',
    'cluster_resources_full', 'cloud', 'region', 'zone', 'infra',
    'recovery_count', 'details', 'failure_reason', 'user_name', 'user_hash',
    'submitted_at', 'start_at', 'end_at', 'user_yaml', 'entrypoint',
    'metadata', 'pool', 'pool_hash', 'current_cluster_name', 'accelerators',
    'labels', 'links'
]

# JobExitCode of `sky jobs logs`, returned through /api/get.
EXIT_SUCCEEDED, EXIT_FAILED, EXIT_NOT_FINISHED, EXIT_NOT_FOUND, \
    EXIT_CANCELLED = 0, 100, 101, 102, 103

_NAME_LINE = re.compile(r'^name:\s*(.*?)\s*$')


def first_document_name(task_yaml):
    """The `name:` of the first YAML document (the DAG name), unquoted."""
    for line in task_yaml.splitlines():
        if line.strip() == '---':
            break
        m = _NAME_LINE.match(line)
        if m:
            value = m.group(1)
            if len(value) >= 2 and value[0] == value[-1] and value[0] in '\'"':
                value = value[1:-1]
            return value
    return None


def encode_payload(payload, payload_type=''):
    type_attr = f' type="{payload_type}"' if payload_type else ''
    return f'<sky-payload{type_attr}>{json.dumps(payload)}</sky-payload>\n'


def control_line(tag, text=''):
    """A control line as a real server (API 31) sends it: a JSON string
    holding <tag>text</tag> inside <sky-payload>, no type attribute."""
    return encode_payload(f'<{tag}>{text}</{tag}>')


# What a real server printed for a job that ended before it ran (it had no
# log file), colours and all: `sky jobs logs` of a FAILED_PRECHECKS job.
def never_ran_message(job):
    text = (f'\x1b[33mJob {job.job_id} is already in terminal state '
            f'{job.status}. For more details, run: sky jobs logs --controller '
            f'{job.job_id}\x1b[0m')
    if job.status.startswith('FAILED'):
        text += f'\nFailure reason: {job.failure_reason}'
    return text + '\n'


def waiting_message(job):
    status = '' if job.status == 'PENDING' and job.submitted_at is None \
        else f' (status: {job.status})'
    return (f'[bold cyan]Waiting for task to start[/]{status}. It may take a '
            f'few minutes.\\n  [dim]View controller logs: sky jobs logs '
            f'--controller {job.job_id}[/]')


class Request:
    """One API request, as SkyPilot's request table holds it."""

    def __init__(self, name, body, user_id):
        self.request_id = str(uuid.uuid4())
        self.name = name
        self.body = body
        self.user_id = user_id
        self.status = 'PENDING'
        self.value = None
        self.error = None  # {'type', 'message'}
        self.created_at = time.time()
        self.finished_at = None
        self.log = ''

    def finish(self, value=None):
        self.status = 'SUCCEEDED'
        self.value = value
        self.finished_at = time.time()

    def fail(self, error_type, message):
        self.status = 'FAILED'
        self.error = {'type': error_type, 'message': message}
        self.finished_at = time.time()

    def cancel(self):
        self.status = 'CANCELLED'
        self.finished_at = time.time()

    def encode(self, readable):
        if readable:
            body = json.dumps(self.body)
        else:  # SkyPilot pickles the body for /api/get: opaque to clients.
            body = base64.b64encode(json.dumps(self.body).encode()).decode()
        error = None
        if self.error is not None:
            error = dict(self.error)
            error['object'] = base64.b64encode(b'pickled-exception').decode()
        return {
            'request_id': self.request_id,
            'name': self.name,
            'entrypoint': 'fake.' + self.name,
            'request_body': body,
            'status': self.status,
            'created_at': self.created_at,
            'user_id': self.user_id,
            'return_value': json.dumps(None if readable else self.value),
            'error': json.dumps(None if readable else error),
            'pid': None,
            'schedule_type': 'long' if self.name == 'sky.jobs.launch' else 'short',
            'user_name': None,
            'cluster_name': None,
            'status_msg': None,
            'should_retry': False,
            'finished_at': self.finished_at,
        }


class Job:
    """One managed job following a script of statuses."""

    def __init__(self, job_id, name, script, user_hash, task):
        self.job_id = job_id
        self.name = name
        self.steps = list(script.get('steps') or DEFAULT_STEPS)
        self.step = 0
        self.status = self.steps[0]
        self.script = script
        self.user_hash = user_hash
        self.task = task
        self.recovery_count = 0
        self.submitted_at = time.time()
        self.start_at = None
        self.end_at = None
        # As sky/jobs/state.py keeps them: running time before the last
        # recovery began, and when the job last started running.
        self.run_before_recovery = 0.0
        self.last_recovered_at = None
        self.failure_reason = None
        self.lines = []
        self._entered(None)

    def terminal(self):
        return self.status in TERMINAL_STATUSES

    def set_status(self, status):
        before = self.status
        self.status = status
        self._entered(before)

    def _entered(self, before):
        now = time.time()
        if self.status == 'RECOVERING' and before == 'RUNNING':
            self.recovery_count += 1
        if before == 'RUNNING' and self.status != 'RUNNING' and self.last_recovered_at:
            self.run_before_recovery += now - self.last_recovered_at
            self.last_recovered_at = None
        if self.status == 'RUNNING' and before != 'RUNNING':
            self.last_recovered_at = now
        if self.status == 'RUNNING' and self.start_at is None:
            self.start_at = now
            logs = self.script.get('logs')
            if logs is None:
                logs = [f'{self.name}: line {i}' for i in range(1, 4)]
            self.lines.extend(logs)
        if self.terminal():
            self.end_at = time.time()
            if self.status.startswith('FAILED'):
                self.failure_reason = self.script.get(
                    'failure_reason') or f'fake failure: {self.status}'
            self.lines.append(f'{self.name}: finished {self.status}')

    def advance(self):
        if self.terminal():
            return
        if self.status == 'CANCELLING':
            self.set_status('CANCELLED')
            return
        if self.step + 1 < len(self.steps):
            self.step += 1
            self.set_status(self.steps[self.step])

    def record(self, extra_fields):
        rec = {key: None for key in RECORD_KEYS}
        end = self.end_at if self.end_at is not None else time.time()
        rec.update({
            '_job_id': self.job_id,
            'job_id': self.job_id,
            'task_id': 0,
            'job_name': self.name,
            'task_name': self.name,
            # Running time without recoveries, as sky/jobs/utils.py answers it.
            'job_duration': self.run_before_recovery + (
                end - self.last_recovered_at if self.last_recovered_at else 0),
            'workspace': 'default',
            'status': self.status,
            'schedule_state': 'DONE' if self.terminal() else 'ALIVE',
            'resources': '1x[CPU:1]',
            'infra': 'Kubernetes/fake',
            'cloud': 'Kubernetes',
            'recovery_count': self.recovery_count,
            'details': None,
            'failure_reason': self.failure_reason,
            'user_name': 'skydeck',
            'user_hash': self.user_hash,
            'submitted_at': self.submitted_at,
            'start_at': self.start_at,
            'end_at': self.end_at,
            'user_yaml': self.task,
            'metadata': {},
        })
        if extra_fields:
            rec['fake_unknown_field'] = {'nested': [1, 2, 3]}
            rec['another_new_key'] = 'surprise'
        return rec


def _default_faults():
    return {
        'slow_ms': 0, 'slow_routes': None,
        'http500': 0, 'http500_routes': None,
        'malformed': None, 'malformed_routes': ['/api/get'],
        'malformed_count': -1,
        'extra_fields': False,
        'queue_error': None,
    }


def _default_config(api_version, advance_on_queue):
    return {
        'api_version': api_version,
        'advance_on_queue': advance_on_queue,
        'launch_hold': False,
        # > 0: a launch request stays RUNNING this long before it names its
        # job, like a real launch that provisions for a while.
        'launch_delay_ms': 0,
        'launch_error': None,
        'controller_stopped': False,
        # /api/cancel of a launch request still running creates its managed
        # job first, left PENDING for good: a real server (API 31, jobs
        # controller in the server) cancelled mid-launch kept job 21
        # PENDING, submitted_at null, for 15+ minutes.
        'launch_cancel_leaves_job': False,
        # > 0: each queue request stays RUNNING this long before its answer
        # (POST answered at once, /api/get blocks), for the next
        # `queue_delay_count` requests (-1: all). The first queue request
        # after a real server restarted took 24-38 s (65 s on a loaded host).
        'queue_delay_ms': 0,
        'queue_delay_count': -1,
        # Seconds between heartbeat lines of a logs request that waits
        # (30 on a real server).
        'heartbeat_s': 0.2,
        'version': '1.0.0-dev0',
        'commit': 'fakecommit0000',
    }


class FakeSkyPilot:
    """The fake's state and servers. Thread-safe: one lock for all state."""

    def __init__(self, api_version=31, token=None, advance_on_queue=True,
                 host='127.0.0.1'):
        self.host = host
        self.token = token
        self._initial = (api_version, advance_on_queue)
        self.cv = threading.Condition()
        self.port = None
        self.control_port = None
        self._main = None
        self._main_thread = None
        # While "down": the main port, bound but not listening (go_down).
        self._port_hold = None
        self._control = None
        self._control_thread = None
        self.uploads = UploadArea()
        self.reset()

    # ----- lifecycle -------------------------------------------------------

    def start(self, port=0):
        self._main, self._main_thread = self._serve(port, control_only=False)
        self.port = self._main.server_address[1]
        self._control, self._control_thread = self._serve(0, control_only=True)
        self.control_port = self._control.server_address[1]
        return self.port

    def stop(self):
        self.go_down()
        self._release_port()
        if self._control is not None:
            self._control.shutdown()
            self._control.server_close()
            self._control = None
        self.uploads.close()

    def go_down(self):
        """Stops accepting connections on the main port (connect refused).
        The port stays bound, without listening, until go_up or stop: were
        it freed, the kernel could give it to another process meanwhile (a
        fake of a test running beside this one), and the daemon's requests
        would reach that process instead of failing."""
        with self.cv:
            server, self._main = self._main, None
        if server is not None:
            server.shutdown()
            server.server_close()
            self._port_hold = socket.socket(server.address_family, socket.SOCK_STREAM)
            self._port_hold.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._port_hold.bind((self.host, self.port))

    def _release_port(self):
        if self._port_hold is not None:
            self._port_hold.close()
            self._port_hold = None

    def go_up(self):
        with self.cv:
            if self._main is not None:
                return
        self._release_port()
        self._main, self._main_thread = self._serve(self.port,
                                                    control_only=False)

    def _serve(self, port, control_only):
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        Handler.control_only = control_only
        server = ThreadingHTTPServer((self.host, port), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever,
                                  kwargs={'poll_interval': 0.05}, daemon=True)
        thread.start()
        return server, thread

    # ----- test controls ---------------------------------------------------

    def reset(self):
        with self.cv:
            self.config = _default_config(*self._initial)
            self.faults = _default_faults()
            self.scripts = []
            self.jobs = {}
            self.next_job_id = 1
            self.requests = {}
            self.held_launches = []
            self.launches = []
            self.counters = {
                'launch_calls': 0, 'launches_by_name': {}, 'queue_calls': 0,
                'queue_v1_calls': 0, 'queue_v2_calls': 0, 'refresh_calls': 0,
                # Queue calls looking a job up by name (name_match).
                'queue_name_lookups': 0,
                'cancel_calls': 0, 'api_cancel_calls': 0, 'logs_calls': 0,
                'api_get_calls': 0, 'status_calls': 0, 'health_calls': 0,
                'stream_calls': 0, 'unauthorized': 0, 'authorized': 0,
                'missing_version_headers': 0, 'client_api_versions': [],
                'http500_sent': 0, 'malformed_sent': 0,
                # job_ids of each /jobs/cancel request, in order.
                'cancel_requests': [],
                # Every request that reached the main port, faulty or not.
                'api_requests': 0,
            }
            self.last_queue = None
            self.last_cancel = None
            self.uploads.reset()
            self.cv.notify_all()

    def upload_user(self, user_hash):
        """Whose directory uploads and launches use: the authenticated
        user when there is a token (as the real server), else the hash."""
        return 'fakeuser' if self.token is not None else (user_hash or 'anon')

    def set_script(self, name_prefix='', steps=None, **kw):
        script = dict(kw)
        script['name_prefix'] = name_prefix
        if steps is not None:
            script['steps'] = list(steps)
        with self.cv:
            self.scripts = [s for s in self.scripts
                            if s['name_prefix'] != name_prefix]
            self.scripts.append(script)

    def set_fault(self, **kw):
        with self.cv:
            if kw.pop('clear', False):
                self.faults = _default_faults()
            unknown = set(kw) - set(self.faults)
            if unknown:
                raise ValueError(f'unknown faults: {sorted(unknown)}')
            self.faults.update(kw)

    def configure(self, **kw):
        with self.cv:
            unknown = set(kw) - set(self.config)
            if unknown:
                raise ValueError(f'unknown config: {sorted(unknown)}')
            self.config.update(kw)
            self.cv.notify_all()

    def tick(self, n=1):
        with self.cv:
            for _ in range(n):
                self._advance_locked()
            self.cv.notify_all()

    def release_launches(self, count=None):
        with self.cv:
            released = 0
            while self.held_launches and (count is None or released < count):
                req = self.held_launches.pop(0)
                if req.status in REQUEST_ACTIVE:
                    self._complete_launch_locked(req)
                    released += 1
            self.cv.notify_all()
            return released

    def set_job_status(self, job_id, status):
        with self.cv:
            self.jobs[int(job_id)].set_status(status)
            self.cv.notify_all()

    def state(self):
        with self.cv:
            return {
                'port': self.port,
                'control_port': self.control_port,
                'up': self._main is not None,
                'config': dict(self.config),
                'faults': dict(self.faults),
                'counters': json.loads(json.dumps(self.counters)),
                'last_queue': self.last_queue,
                'last_cancel': self.last_cancel,
                'launches': list(self.launches),
                'jobs': [j.record(False) for j in sorted(
                    self.jobs.values(), key=lambda j: j.job_id)],
                'requests': [{'request_id': r.request_id, 'name': r.name,
                              'status': r.status}
                             for r in self.requests.values()],
            }

    # ----- internals (call with self.cv held) ------------------------------

    def _script_for(self, name):
        best = {}
        for s in self.scripts:
            if name.startswith(s['name_prefix']) and len(
                    s['name_prefix']) >= len(best.get('name_prefix', '')):
                best = s
        return best

    def _advance_locked(self):
        for job in self.jobs.values():
            job.advance()

    def _new_request(self, name, body, user_id):
        req = Request(name, body, user_id)
        self.requests[req.request_id] = req
        return req

    def _complete_launch_locked(self, req):
        task = req.body.get('task', '')
        name = first_document_name(task) or req.body.get('name') or 'sky-cmd'
        script = self._script_for(name)
        error = script.get('launch_error') or self.config['launch_error']
        if error:
            req.fail(error.get('type', 'RuntimeError'),
                     error.get('message', 'launch failed'))
            return
        user_hash = (req.body.get('env_vars') or {}).get('SKYPILOT_USER_ID')
        try:
            self.uploads.translate(name, task, self.upload_user(user_hash))
        except LaunchError as e:
            req.fail(e.error_type, e.message)
            return
        job_id = self.next_job_id
        self.next_job_id += 1
        self.jobs[job_id] = Job(job_id, name, script, user_hash, task)
        self.config['controller_stopped'] = False
        req.finish({'job_id': job_id,
                    'handle': base64.b64encode(b'pickled-handle').decode()})

    def _take_malformed_locked(self, path):
        """The malformed mode to answer `path` with, or None; counts it."""
        faults = self.faults
        if not (faults['malformed'] and
                _route_matches(path, faults['malformed_routes']) and
                faults['malformed_count'] != 0):
            return None
        if faults['malformed_count'] > 0:
            faults['malformed_count'] -= 1
        self.counters['malformed_sent'] += 1
        return faults['malformed']

    def _complete_launch_later(self, req, delay_ms):
        def complete():
            with self.cv:
                if req.status in REQUEST_ACTIVE:
                    self._complete_launch_locked(req)
                self.cv.notify_all()

        timer = threading.Timer(delay_ms / 1000.0, complete)
        timer.daemon = True
        timer.start()

    def _controller_down(self):
        return self.config['controller_stopped'] or not self.jobs

    def _leave_job_of_cancelled_launch_locked(self, req):
        task = req.body.get('task', '')
        name = first_document_name(task) or req.body.get('name') or 'sky-cmd'
        job_id = self.next_job_id
        self.next_job_id += 1
        user_hash = (req.body.get('env_vars') or {}).get('SKYPILOT_USER_ID')
        job = Job(job_id, name, {'steps': ['PENDING']}, user_hash, task)
        job.submitted_at = None
        self.jobs[job_id] = job
        self.config['controller_stopped'] = False

    def _take_queue_delay_locked(self):
        cfg = self.config
        if cfg['queue_delay_ms'] <= 0 or cfg['queue_delay_count'] == 0:
            return 0
        if cfg['queue_delay_count'] > 0:
            cfg['queue_delay_count'] -= 1
        return cfg['queue_delay_ms']

    def _finish_later(self, req, value, delay_ms):
        def finish():
            with self.cv:
                if req.status in REQUEST_ACTIVE:
                    req.finish(value)
                self.cv.notify_all()

        timer = threading.Timer(delay_ms / 1000.0, finish)
        timer.daemon = True
        timer.start()

    def restart(self, queue_delay_ms=0, queue_delay_count=1):
        """Like a real server restart: down, finished requests and uploads
        forgotten (reset_db_and_logs; managed jobs survive), then up, the
        first queue answers slow while workers warm up."""
        self.go_down()
        with self.cv:
            self.requests = {rid: r for rid, r in self.requests.items()
                             if r.status in REQUEST_ACTIVE}
            self.uploads.wipe()
            self.config['queue_delay_ms'] = queue_delay_ms
            self.config['queue_delay_count'] = queue_delay_count
        self.go_up()


def _route_matches(path, routes):
    return routes is None or any(path.startswith(r) for r in routes)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    fake = None  # type: FakeSkyPilot
    control_only = False

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        if os.environ.get('SKYPILOT_FAKE_VERBOSE'):
            sys.stderr.write('skypilot_fake: ' + (format % args) + '\n')

    # ----- plumbing --------------------------------------------------------

    def _read_json(self):
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length) if length else b''
        if not raw:
            return {}
        return json.loads(raw)

    def _common_headers(self):
        cfg = self.fake.config
        self.send_header('X-SkyPilot-API-Version', str(cfg['api_version']))
        self.send_header('X-SkyPilot-Version', cfg['version'])

    def _send(self, code, payload=None, raw=None, content_type=None,
              headers=None):
        if raw is None:
            raw = json.dumps(payload).encode()
            content_type = content_type or 'application/json'
        elif isinstance(raw, str):
            raw = raw.encode()
        self.send_response(code)
        self._common_headers()
        self.send_header('Content-Type', content_type or 'text/plain')
        self.send_header('Content-Length', str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def _send_request_id(self, req):
        self._send(200, None, headers={'X-Skypilot-Request-ID':
                                       req.request_id})

    def do_GET(self):  # pylint: disable=invalid-name
        self._dispatch('GET')

    def do_POST(self):  # pylint: disable=invalid-name
        self._dispatch('POST')

    def _dispatch(self, method):
        url = urlsplit(self.path)
        path = url.path
        query = parse_qs(url.query)
        try:
            if path.startswith('/_fake/'):
                return self._control(method, path)
            if self.control_only:
                return self._send(404, {'detail': 'control port'})
            return self._api(method, path, query)
        except (BrokenPipeError, ConnectionResetError):
            return None

    # ----- control endpoints -----------------------------------------------

    def _control(self, method, path):
        fake = self.fake
        body = self._read_json() if method == 'POST' else {}
        try:
            if path == '/_fake/state':
                return self._send(200, fake.state())
            if path == '/_fake/uploads':
                return self._send(200, fake.uploads.state())
            if method != 'POST':
                return self._send(405, {'detail': 'POST only'})
            if path == '/_fake/script':
                prefix = body.pop('name_prefix', '')
                fake.set_script(prefix, **body)
            elif path == '/_fake/fault':
                fake.set_fault(**body)
            elif path == '/_fake/config':
                fake.configure(**body)
            elif path == '/_fake/tick':
                fake.tick(int(body.get('n', 1)))
            elif path == '/_fake/release_launches':
                return self._send(200, {'released': fake.release_launches(
                    body.get('count'))})
            elif path == '/_fake/job':
                fake.set_job_status(body['job_id'], body['status'])
            elif path == '/_fake/down':
                # Answer first: shutting down waits for this thread's server.
                self._send(200, {'ok': True})
                threading.Thread(target=fake.go_down, daemon=True).start()
                return None
            elif path == '/_fake/up':
                fake.go_up()
            elif path == '/_fake/restart':
                fake.restart(int(body.get('queue_delay_ms', 0)),
                             int(body.get('queue_delay_count', 1)))
            elif path == '/_fake/reset':
                fake.reset()
            else:
                return self._send(404, {'detail': f'no control {path}'})
        except (ValueError, KeyError, TypeError) as e:
            return self._send(400, {'detail': str(e)})
        return self._send(200, {'ok': True})

    # ----- API -------------------------------------------------------------

    def _api(self, method, path, query):
        fake = self.fake
        with fake.cv:
            fake.counters['api_requests'] += 1
            faults = dict(fake.faults)
            cfg = dict(fake.config)
        if faults['slow_ms'] and _route_matches(path, faults['slow_routes']):
            time.sleep(faults['slow_ms'] / 1000.0)

        api_header = self.headers.get('X-SkyPilot-API-Version')
        version_header = self.headers.get('X-SkyPilot-Version')
        with fake.cv:
            if api_header is None or version_header is None:
                fake.counters['missing_version_headers'] += 1
            elif api_header not in fake.counters['client_api_versions']:
                fake.counters['client_api_versions'].append(api_header)
        if api_header is not None and version_header is not None:
            try:
                client_api = int(api_header)
            except ValueError:
                return self._send(400, {'detail': 'bad API version header'})
            if client_api < MIN_COMPATIBLE_API_VERSION:
                return self._send(400, {
                    'error': 'version_mismatch',
                    'message': f'client API version {client_api} is older '
                               f'than {MIN_COMPATIBLE_API_VERSION}'})

        authorized = True
        if fake.token is not None:
            authorized = (self.headers.get('Authorization') ==
                          f'Bearer {fake.token}')
        if path == '/api/health' and method == 'GET':
            return self._health(cfg, authorized, api_header is not None)
        with fake.cv:
            fake.counters['authorized' if authorized else 'unauthorized'] += 1
        if not authorized:
            return self._send(401, {'detail': 'Authentication required'})

        if method == 'POST' and faults['http500'] and _route_matches(
                path, faults['http500_routes']):
            with fake.cv:
                if fake.faults['http500'] > 0:
                    fake.faults['http500'] -= 1
                fake.counters['http500_sent'] += 1
            self._read_json_quietly()
            return self._send(500, raw='Internal Server Error')

        if method == 'POST' and path == '/upload':
            return self._upload(query)
        routes = {
            ('GET', '/api/get'): self._api_get,
            ('GET', '/api/status'): self._api_status,
            ('GET', '/api/stream'): self._api_stream,
            ('POST', '/api/cancel'): self._api_cancel,
            ('POST', '/jobs/launch'): self._jobs_launch,
            ('POST', '/jobs/queue'): self._jobs_queue,
            ('POST', '/jobs/queue/v2'): self._jobs_queue,
            ('POST', '/jobs/cancel'): self._jobs_cancel,
            ('POST', '/jobs/logs'): self._jobs_logs,
        }
        handler = routes.get((method, path))
        if handler is None or (path == '/jobs/queue/v2' and
                               cfg['api_version'] < V2_QUEUE_API_VERSION):
            return self._send(404, {'detail': 'Not Found'})
        if method == 'POST':
            try:
                body = self._read_json()
            except ValueError:
                return self._send(422, {'detail': 'body is not JSON'})
            if not isinstance(body, dict):
                return self._send(422, {'detail': 'body must be an object'})
            return handler(path, body)
        return handler(path, query)

    def _upload(self, query):
        """POST /upload: one chunk of a zip (fake_uploads.py)."""
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        user = self.fake.upload_user((query.get('user_hash') or [''])[0])
        try:
            answer = self.fake.uploads.receive(user, query, body)
        except UploadError as e:
            if e.status == 500:
                return self._send(500, raw='Internal Server Error')
            return self._send(e.status, {'detail': e.detail})
        return self._send(200, answer)

    def _read_json_quietly(self):
        try:
            self._read_json()
        except ValueError:
            pass

    def _user_id(self, body):
        return (body.get('env_vars') or {}).get('SKYPILOT_USER_ID', 'anon')

    def _health(self, cfg, authorized, sent_version):
        fake = self.fake
        with fake.cv:
            fake.counters['health_calls'] += 1
            malformed = fake._take_malformed_locked('/api/health')
        if malformed in ('garbage', 'truncated'):
            # Only when malformed_routes names /api/health (not the default).
            text = '<html><body>502 Bad Gateway</body></html>' \
                if malformed == 'garbage' else '{"status": "heal'
            return self._send(200, raw=text, content_type='application/json')
        if not authorized and not sent_version:
            return self._send(200, {'status': 'healthy'})
        payload = {
            'status': 'healthy' if authorized else 'needs_auth',
            'api_version': str(cfg['api_version']),
            'version': cfg['version'],
            'version_on_disk': cfg['version'],
            'commit': cfg['commit'],
            'basic_auth_enabled': False,
            'user': {'id': 'fakeuser', 'name': 'fake'} if authorized else None,
            'service_account_token_enabled': fake.token is not None,
        }
        if fake.faults['extra_fields']:
            payload['fake_unknown_field'] = {'a': 1}
        return self._send(200, payload)

    def _find_request(self, prefix):
        matches = [r for rid, r in self.fake.requests.items()
                   if rid.startswith(prefix)]
        return matches[0] if len(matches) == 1 else None

    def _api_get(self, path, query):
        fake = self.fake
        request_id = (query.get('request_id') or [''])[0]
        with fake.cv:
            fake.counters['api_get_calls'] += 1
            req = self._find_request(request_id) if request_id else None
            if req is None:
                return self._send(404, {
                    'detail': f'Request {request_id!r} not found'})
            deadline = time.time() + 3600
            while req.status in REQUEST_ACTIVE and time.time() < deadline:
                fake.cv.wait(0.5)
            record = req.encode(readable=False)
            malformed = fake._take_malformed_locked(path)
            extra = fake.faults['extra_fields']
        if extra:
            record['fake_unknown_field'] = ['x', {'y': None}]
        if req.status == 'FAILED':
            error = dict(req.error)
            error['object'] = 'cGlja2xlZA=='
            record['error'] = json.dumps(error)
            return self._send(500, {'detail': record})
        if malformed == 'return_value':
            record['return_value'] = '{"job_id": 1, "handle": '
        text = json.dumps(record)
        if malformed == 'truncated':
            text = text[:len(text) // 2]
        elif malformed == 'garbage':
            text = '<html><body>502 Bad Gateway</body></html>'
        return self._send(200, raw=text, content_type='application/json')

    def _api_status(self, path, query):
        fake = self.fake
        ids = query.get('request_ids')
        all_status = (query.get('all_status') or ['false'])[0].lower() in (
            'true', '1')
        with fake.cv:
            fake.counters['status_calls'] += 1
            out = []
            if ids:
                for prefix in ids:
                    for rid, req in fake.requests.items():
                        if rid.startswith(prefix):
                            out.append(req.encode(readable=True))
            else:
                for req in sorted(fake.requests.values(),
                                  key=lambda r: -r.created_at):
                    if all_status or req.status in REQUEST_ACTIVE:
                        out.append(req.encode(readable=True))
        return self._send(200, out)

    def _api_stream(self, path, query):
        fake = self.fake
        request_id = (query.get('request_id') or [''])[0]
        with fake.cv:
            fake.counters['stream_calls'] += 1
            req = self._find_request(request_id) if request_id else None
            if req is None:
                return self._send(404, {'detail': 'not found'})
            text = req.log
        return self._send(200, raw=text)

    def _api_cancel(self, path, body):
        fake = self.fake
        with fake.cv:
            fake.counters['api_cancel_calls'] += 1
            req = fake._new_request('sky.api_cancel', body, self._user_id(body))
            cancelled = []
            for prefix in body.get('request_ids') or []:
                for rid, target in fake.requests.items():
                    if rid.startswith(prefix) and target.status in \
                            REQUEST_ACTIVE:
                        if (target.name == 'sky.jobs.launch' and
                                fake.config['launch_cancel_leaves_job']):
                            fake._leave_job_of_cancelled_launch_locked(target)
                        target.cancel()
                        if target in fake.held_launches:
                            fake.held_launches.remove(target)
                        cancelled.append(rid)
            req.finish(cancelled)
            fake.cv.notify_all()
        return self._send_request_id(req)

    def _jobs_launch(self, path, body):
        fake = self.fake
        if not isinstance(body.get('task'), str) or 'name' not in body:
            missing = 'task' if not isinstance(body.get('task'), str) else \
                'name'
            return self._send(422, {'detail': [{
                'type': 'missing', 'loc': ['body', missing],
                'msg': 'Field required'}]})
        env = body.get('env_vars') or {}
        if 'SKYPILOT_USER_ID' not in env or 'SKYPILOT_USER' not in env:
            return self._send(500, raw='Internal Server Error')
        name = first_document_name(body['task']) or body.get('name') or \
            'sky-cmd'
        with fake.cv:
            c = fake.counters
            c['launch_calls'] += 1
            c['launches_by_name'][name] = c['launches_by_name'].get(name,
                                                                    0) + 1
            fake.launches.append({'name': name, 'body': body})
            req = fake._new_request('sky.jobs.launch', body, self._user_id(body))
            req.status = 'RUNNING'
            script = fake._script_for(name)
            if fake.config['launch_hold'] or script.get('launch_hold'):
                fake.held_launches.append(req)
            elif fake.config['launch_delay_ms'] > 0:
                fake._complete_launch_later(req,
                                            fake.config['launch_delay_ms'])
            else:
                fake._complete_launch_locked(req)
            fake.cv.notify_all()
        return self._send_request_id(req)

    def _jobs_queue(self, path, body):
        fake = self.fake
        v2 = path.endswith('/v2')
        with fake.cv:
            c = fake.counters
            c['queue_calls'] += 1
            c['queue_v2_calls' if v2 else 'queue_v1_calls'] += 1
            if body.get('refresh'):
                c['refresh_calls'] += 1
            if body.get('name_match'):
                c['queue_name_lookups'] += 1
            fake.last_queue = {'route': path, 'body': body}
            req = fake._new_request('sky.jobs.queue_v2' if v2 else 'sky.jobs.queue',
                                    body, self._user_id(body))
            delay_ms = fake._take_queue_delay_locked()
            if fake._controller_down():
                req.fail('ClusterNotUpError', 'No in-progress managed jobs.')
            elif fake.faults['queue_error']:
                err = fake.faults['queue_error']
                req.fail(err.get('type', 'RuntimeError'),
                         err.get('message', 'queue failed'))
            elif delay_ms > 0:
                req.status = 'RUNNING'
                result = self._queue_result(body, v2)
                fake._finish_later(req, result, delay_ms)
            else:
                req.finish(self._queue_result(body, v2))
            if fake.config['advance_on_queue']:
                fake._advance_locked()
            fake.cv.notify_all()
        return self._send_request_id(req)

    def _queue_result(self, body, v2):
        fake = self.fake
        extra = fake.faults['extra_fields']
        jobs = sorted(fake.jobs.values(), key=lambda j: -j.job_id)
        ids = body.get('job_ids')
        if ids is not None:
            wanted = {int(i) for i in ids}
            jobs = [j for j in jobs if j.job_id in wanted]
        name_match = body.get('name_match') if v2 else None
        if name_match:
            jobs = [j for j in jobs if name_match in j.name]
        if body.get('skip_finished'):
            jobs = [j for j in jobs if not j.terminal()]
        records = [j.record(extra) for j in jobs]
        if not v2:
            return records
        fields = body.get('fields')
        if fields:
            for rec in records:
                for key in list(rec):
                    if key not in fields and key in RECORD_KEYS:
                        rec[key] = None
        counts = {}
        for j in fake.jobs.values():
            counts[j.status] = counts.get(j.status, 0) + 1
        result = {'jobs': records, 'total': len(records),
                  'total_no_filter': len(fake.jobs), 'status_counts': counts}
        if extra:
            result['fake_unknown_field'] = 'ignored'
        return result

    def _jobs_cancel(self, path, body):
        fake = self.fake
        with fake.cv:
            fake.counters['cancel_calls'] += 1
            fake.counters['cancel_requests'].append(body.get('job_ids'))
            fake.last_cancel = body
            req = fake._new_request('sky.jobs.cancel', body, self._user_id(body))
            job_ids = body.get('job_ids')
            if job_ids is not None and body.get('name') is not None:
                req.fail('ValueError',
                         'Only one of job IDs, job name, or all can be '
                         'specified.')
            elif fake._controller_down():
                req.fail('ClusterNotUpError', 'No in-progress managed jobs.')
            else:
                targets = []
                for jid in job_ids or []:
                    job = fake.jobs.get(int(jid))
                    if job is not None and not job.terminal():
                        targets.append(job)
                if body.get('name') is not None:
                    targets = [j for j in fake.jobs.values()
                               if j.name == body['name'] and not j.terminal()]
                for job in targets:
                    if job.status in ('PENDING', 'SUBMITTED'):
                        job.set_status('CANCELLED')
                    elif job.status != 'CANCELLING':
                        job.set_status('CANCELLING')
                # What a real server (API 31) logged for job_ids [3, 99].
                lines = [control_line(tag, '[bold cyan]Cancelling managed '
                                      'jobs[/]')
                         for tag in ('rich_init', 'rich_update', 'rich_start')]
                known = {j.job_id for j in targets}
                for jid in job_ids or []:
                    if int(jid) in known:
                        lines.append(f'Job with ID {int(jid)} is scheduled to '
                                     'be cancelled.\n')
                    else:
                        lines.append(f'Job {int(jid)} not found. Skipped.\r\n')
                if body.get('name') is not None and not targets:
                    lines.append('No job to cancel.\n')
                lines.append(control_line('rich_exit'))
                req.log = ''.join(lines)
                req.finish(None)
            fake.cv.notify_all()
        return self._send_request_id(req)

    # ----- logs --------------------------------------------------------------

    def _write_chunk(self, text):
        data = text.encode()
        if data:
            self.wfile.write(b'%x\r\n%s\r\n' % (len(data), data))
            self.wfile.flush()

    def _jobs_logs(self, path, body):
        fake = self.fake
        follow = body.get('follow', True)
        tail = body.get('tail')
        with fake.cv:
            fake.counters['logs_calls'] += 1
            req = fake._new_request('sky.jobs.logs', body, self._user_id(body))
            req.status = 'RUNNING'
            job = None
            if fake._controller_down():
                req.fail('ClusterNotUpError', 'No in-progress managed jobs.')
            else:
                if body.get('job_id') is not None:
                    job = fake.jobs.get(int(body['job_id']))
                elif body.get('name') is not None:
                    named = [j for j in fake.jobs.values()
                             if j.name == body['name']]
                    job = named[-1] if named else None
                if job is None:
                    req.finish(EXIT_NOT_FOUND)
        self.send_response(200)
        self._common_headers()
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Transfer-Encoding', 'chunked')
        self.send_header('X-Skypilot-Request-ID', req.request_id)
        self.end_headers()
        self.close_connection = True
        try:
            if job is not None:
                self._stream_job(req, job, follow, tail)
            self.wfile.write(b'0\r\n\r\n')
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            with fake.cv:
                if req.status in REQUEST_ACTIVE:
                    req.cancel()  # SkyPilot kills the request on disconnect
                fake.cv.notify_all()

    def _stream_job(self, req, job, follow, tail):
        fake = self.fake

        def runs():
            return job.terminal() or job.status in ('RUNNING', 'CANCELLING')

        # Spinner lines first, like a real server (API 31).
        with fake.cv:
            message = waiting_message(job)
        for tag in ('rich_init', 'rich_update', 'rich_start'):
            self._write_chunk(control_line(tag, message))
        # A job that does not run yet (PENDING ... STARTING, RECOVERING):
        # the server waits for it, followed or not, sending nothing but
        # heartbeats (every 30 s on a real server) and status updates.
        while True:
            with fake.cv:
                fake.cv.wait_for(runs, timeout=fake.config['heartbeat_s'])
                if runs():
                    break
                now = waiting_message(job)
            if now != message:
                message = now
                self._write_chunk(control_line('rich_update', message))
            else:
                self._write_chunk(control_line('heartbeat'))
        self._write_chunk(control_line('rich_exit'))
        with fake.cv:
            never_ran = job.terminal() and job.start_at is None
            text = never_ran_message(job) if never_ran else ''
        if never_ran:
            self._write_chunk(text)
            return self._finish_logs(req, job)
        with fake.cv:
            lines = list(job.lines)
        sent = len(lines)
        if tail is not None and tail > 0:
            lines = lines[-tail:]
        for i, line in enumerate(lines):
            text = line + '\n'
            if i == 1:
                # A control line split across two chunks, glued to a log line.
                control = encode_payload({'spinner': True}, 'rich_status')
                half = len(control) // 2
                self._write_chunk(text + control[:half])
                self._write_chunk(control[half:])
            else:
                self._write_chunk(text)
        while follow:
            with fake.cv:
                fake.cv.wait_for(
                    lambda: len(job.lines) > sent or job.terminal(),
                    timeout=fake.config['heartbeat_s'])
                new = job.lines[sent:]
                sent = len(job.lines)
                done = job.terminal()
            if new:
                self._write_chunk(''.join(line + '\n' for line in new))
            elif not done:
                self._write_chunk(control_line('heartbeat'))
            if done and not new:
                break
        return self._finish_logs(req, job)

    def _finish_logs(self, req, job):
        fake = self.fake
        with fake.cv:
            if job.status == 'SUCCEEDED':
                code = EXIT_SUCCEEDED
            elif job.status == 'CANCELLED':
                code = EXIT_CANCELLED
            elif job.terminal():
                code = EXIT_FAILED
            else:
                code = EXIT_NOT_FINISHED
            if req.status in REQUEST_ACTIVE:
                req.finish(code)
            fake.cv.notify_all()


def _write_atomically(path, text):
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--port-file')
    parser.add_argument('--control-port-file')
    parser.add_argument('--token')
    parser.add_argument('--api-version', type=int, default=31)
    parser.add_argument('--tick-mode', choices=['queue', 'explicit'],
                        default='queue',
                        help='advance jobs per queue call or per /_fake/tick')
    args = parser.parse_args(argv)

    fake = FakeSkyPilot(api_version=args.api_version, token=args.token,
                        advance_on_queue=args.tick_mode == 'queue')
    port = fake.start(args.port)
    if args.control_port_file:
        _write_atomically(args.control_port_file, f'{fake.control_port}\n')
    if args.port_file:
        _write_atomically(args.port_file, f'{port}\n')
    print(f'skypilot_fake listening on 127.0.0.1:{port} '
          f'(control {fake.control_port})', flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(0.2):
        pass
    fake.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
