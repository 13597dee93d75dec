"""File uploads of the fake SkyPilot API server, as the real one does them.

SkyPilot's client uploads a task's local workdir and file mounts before a
launch (sky/client/common.py, upload_mounts_to_api_server) and marks the
uploaded paths in the task's `file_mounts_mapping`; the server stores them
(sky/server/server.py, upload_zip_file and unzip_file) and points the task
at them (sky/server/common.py, process_mounts_in_task_on_api_server):

  POST /upload?user_hash=U&upload_id=I&chunk_index=K&total_chunks=N
       body: bytes K of a zip, application/octet-stream
    -> 200 {"status": "uploading", "missing_chunks": [...]}
       or, once every chunk is there, the zip is joined and extracted under
       <clients>/<user>/file_mounts/<entry path> and
    -> 200 {"status": "completed", "missing_chunks": null}
    upload_id must match sky-YYYY-MM-DD-HH-MM-SS-ffffff-<8 hex>, else 500
    (the server raises ValueError); 0 <= chunk_index < total_chunks; a zip
    that does not open is 400; a symlink whose target leaves the user's
    directory fails the upload (500).

  POST /jobs/launch with a task whose documents carry file_mounts_mapping:
    each document's mapping is popped; a string workdir becomes
    <clients>/<user>/file_mounts/<mapping[workdir]>, each local file_mounts
    source (plain or a storage `source`, lists too) likewise; a source not
    in the mapping fails the launch (KeyError), and so does a workdir that
    is not a directory there (ValueError "Workdir must be a valid directory
    (or a symlink to a directory). <translated path> not found.", as Task
    validation does).

The user is the authenticated one when the server has a token, else the
request's user hash (env_vars.SKYPILOT_USER_ID for launches). A server
restart wipes every upload (reset_db_and_logs removes the clients dir).

Reading the task needs PyYAML (python3-yaml), as SkyPilot itself.
"""

import io
import os
import re
import shutil
import tempfile
import threading
import zipfile

UPLOAD_ID = re.compile(r'sky-[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}-'
                       r'[0-9]{2}-[0-9]{6}-[0-9a-f]{8}$')
CLOUD_PREFIXES = ('s3://', 'gs://', 'r2://', 'cos://', 'oci://', 'https://',
                  'http://', 'nebius://', 'az://')


class UploadError(Exception):
    """An upload the real server refuses: (HTTP status, detail)."""

    def __init__(self, status, detail):
        super().__init__(detail)
        self.status = status
        self.detail = detail


class LaunchError(Exception):
    """A launch the real server fails: (exception type, message)."""

    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type
        self.message = message


def is_cloud_store_url(source):
    return isinstance(source, str) and source.startswith(CLOUD_PREFIXES)


class UploadArea:
    """The server's ~/.sky/api_server/clients directory and its uploads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.root = tempfile.mkdtemp(prefix='skypilot_fake_clients_')
        self.calls = 0
        self.chunks_received = 0
        self.completed = []  # {upload_id, user, total_chunks, bytes, entries}
        self.translated = {}  # job name -> list of translated task documents

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def wipe(self):
        """What a server (re)start does to uploaded files."""
        with self.lock:
            shutil.rmtree(self.root, ignore_errors=True)
            os.makedirs(self.root, exist_ok=True)

    def reset(self):
        self.wipe()
        with self.lock:
            self.calls = 0
            self.chunks_received = 0
            self.completed = []
            self.translated = {}

    def state(self):
        with self.lock:
            return {'root': self.root, 'calls': self.calls,
                    'chunks_received': self.chunks_received,
                    'completed': list(self.completed),
                    'translated': dict(self.translated)}

    def user_dir(self, user):
        return os.path.join(self.root, user, 'file_mounts')

    # ----- POST /upload -----------------------------------------------------

    def receive(self, user, query, body):
        """Stores one chunk; returns the answer's payload or raises."""

        def arg(name):
            values = query.get(name)
            if not values:
                raise UploadError(422, [{'type': 'missing',
                                         'loc': ['query', name],
                                         'msg': 'Field required'}])
            return values[0]

        upload_id = arg('upload_id')
        arg('user_hash')
        try:
            chunk_index = int(arg('chunk_index'))
            total_chunks = int(arg('total_chunks'))
        except ValueError as e:
            raise UploadError(422, str(e)) from e
        with self.lock:
            self.calls += 1
        if not UPLOAD_ID.match(upload_id):
            raise UploadError(500, f'Invalid upload_id: {upload_id}. '
                              'Please use a valid uuid.')
        if chunk_index < 0 or chunk_index >= total_chunks:
            raise UploadError(500, f'Invalid chunk_index: {chunk_index}.')
        if total_chunks < 1:
            raise UploadError(500, f'Invalid total_chunks: {total_chunks}.')
        mounts = self.user_dir(user)
        with self.lock:
            self.chunks_received += 1
            os.makedirs(mounts, exist_ok=True)
            chunk_dir = os.path.join(mounts, upload_id)
            if total_chunks == 1:
                data = body
            else:
                os.makedirs(chunk_dir, exist_ok=True)
                with open(os.path.join(chunk_dir, f'part{chunk_index}'),
                          'wb') as f:
                    f.write(body)
                missing = sorted(f'part{i}' for i in range(total_chunks)
                                 if not os.path.exists(
                                     os.path.join(chunk_dir, f'part{i}')))
                if missing:
                    return {'status': 'uploading', 'missing_chunks': missing}
                data = b''.join(
                    open(os.path.join(chunk_dir, f'part{i}'), 'rb').read()
                    for i in range(total_chunks))
            entries = self._extract(data, mounts)
            shutil.rmtree(chunk_dir, ignore_errors=True)
            self.completed.append({'upload_id': upload_id, 'user': user,
                                   'total_chunks': total_chunks,
                                   'bytes': len(data), 'entries': entries})
        return {'status': 'completed', 'missing_chunks': None}

    @staticmethod
    def _extract(data, mounts):
        """unzip_file of sky/server/server.py; returns the entry names."""
        try:
            zipf = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as e:
            raise UploadError(400, f'Invalid zip file: {e}') from e
        names = []
        root = os.path.realpath(mounts)
        for member in zipf.infolist():
            original = os.path.normpath(member.filename)
            new_path = os.path.join(mounts, original.lstrip('/'))
            names.append(member.filename)
            if (member.external_attr >> 28) == 0xA:
                os.makedirs(os.path.dirname(new_path), exist_ok=True)
                target = zipf.read(member).decode()
                if os.path.isabs(target):
                    raise UploadError(500, f'absolute symlink target {target}')
                full = os.path.realpath(
                    os.path.join(os.path.dirname(new_path), target))
                if os.path.commonpath([full, root]) != root:
                    raise UploadError(500, f'Symlink target {target} leads to '
                                      'a file not in userspace. Aborted.')
                if os.path.lexists(new_path):
                    os.unlink(new_path)
                os.symlink(target, new_path)
                continue
            if member.filename.endswith('/'):
                os.makedirs(new_path, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(new_path), exist_ok=True)
            with zipf.open(member) as src, open(new_path, 'wb') as dst:
                shutil.copyfileobj(src, dst)
        return names

    # ----- POST /jobs/launch ----------------------------------------------

    def translate(self, name, task_yaml, user):
        """process_mounts_in_task_on_api_server; records and returns the
        translated documents. Raises LaunchError like the real launch."""
        if 'file_mounts_mapping' not in task_yaml:
            return None
        import yaml  # pylint: disable=import-outside-toplevel
        docs = list(yaml.safe_load_all(task_yaml))
        mounts = self.user_dir(user)

        def mapped(path, mapping):
            if path not in mapping:
                raise LaunchError('KeyError', repr(path))
            return os.path.join(mounts, mapping[path].lstrip('/'))

        for doc in docs:
            if not isinstance(doc, dict):
                continue
            mapping = doc.pop('file_mounts_mapping', None) or {}
            if not mapping:
                continue
            workdir = doc.get('workdir')
            if isinstance(workdir, str):
                doc['workdir'] = mapped(workdir, mapping)
                if not os.path.isdir(doc['workdir']):
                    # The real server's words (1.0.0-dev0, seen 2026-12-07).
                    raise LaunchError(
                        'ValueError', 'Workdir must be a valid directory (or a '
                        'symlink to a directory). '
                        f'{doc["workdir"]} not found.')
            for dst, src in list((doc.get('file_mounts') or {}).items()):
                if isinstance(src, str):
                    if not is_cloud_store_url(src):
                        doc['file_mounts'][dst] = mapped(src, mapping)
                        if not os.path.exists(doc['file_mounts'][dst]):
                            raise LaunchError(
                                'ValueError',
                                f'File mount source {src!r} does not exist.')
                elif isinstance(src, dict) and 'source' in src:
                    source = src['source']
                    if isinstance(source, str):
                        if not is_cloud_store_url(source):
                            src['source'] = mapped(source, mapping)
                    else:  # every item, URLs too, as the real server
                        src['source'] = [mapped(s, mapping) for s in source]
        with self.lock:
            self.translated[name] = docs
        return docs
